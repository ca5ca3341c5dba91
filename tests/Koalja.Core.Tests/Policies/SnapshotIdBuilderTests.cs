using System.Security.Cryptography;
using System.Text;
using FsCheck.Xunit;
using Koalja.Core.Policies;

namespace Koalja.Core.Tests.Policies;

/// <summary>
/// Snapshot ids are kept in registries and recognise redelivered snapshots, so the id of a snapshot must
/// not change between versions and two different snapshots must not share one. The id is checked against
/// an independent computation of its documented layout: SHA-256 over
/// <c>task 00 codeVersion 00 (01 inputName 00 (valueId 02)*)*</c> in UTF-8, the first 16 bytes in lower-case hex.
/// </summary>
public sealed class SnapshotIdBuilderTests
{
    /// <summary>Letters of one to four UTF-8 bytes (é, €, 𝄞 as a surrogate pair), none of them a framing byte.</summary>
    private static readonly string[] Alphabet = ["a", "b", "é", "€", "𝄞", "-", "0"];

    [Fact]
    public void TheIdOfAKnownSnapshotStaysTheSameAcrossVersions()
    {
        // Computed outside .NET (Python's hashlib over the bytes of the layout); registries hold ids like it.
        using var ids = new SnapshotIdBuilder();

        var id = ids.Compute("countLines", "code-7", [Input("files", "v1", "v2"), Input("config", "c1")]);

        Assert.Equal("cc1c38b8a372b8683678df2057a1a83d", id);
    }

    [Fact]
    public void AnIdLongerThanTheInitialBufferIsTheSameAsOneComputedOutsideDotNet()
    {
        using var ids = new SnapshotIdBuilder();

        var id = ids.Compute("uniq", "v1", [Input("in", string.Concat(Enumerable.Repeat("é€𝄞", 300)))]);

        Assert.Equal("62142cc1aa974d7d175d55feee232cbe", id);
    }

    [Theory]
    [InlineData(0, "a")]
    [InlineData(490, "a")]
    [InlineData(500, "a")]
    [InlineData(511, "a")]
    [InlineData(512, "a")]
    [InlineData(513, "a")]
    [InlineData(1100, "a")]
    [InlineData(5000, "a")]
    [InlineData(170, "€")]
    [InlineData(400, "€")]
    [InlineData(300, "𝄞")]
    public void AFreshBuilderGivesTheReferenceIdForOneValueOfAnyLength(int repeat, string letter)
    {
        var value = string.Concat(Enumerable.Repeat(letter, repeat));
        IReadOnlyList<SnapshotInput> inputs = [Input("in", value)];
        using var ids = new SnapshotIdBuilder();

        Assert.Equal(ReferenceId("task", "v1", inputs), ids.Compute("task", "v1", inputs));
    }

    [Theory]
    [InlineData(1, 2000)]
    [InlineData(50, 30)]
    [InlineData(200, 7)]
    [InlineData(3, 600)]
    public void ManyInputsAndValuesThatGrowTheBufferStepByStepGiveTheReferenceId(int count, int length)
    {
        IReadOnlyList<SnapshotInput> inputs = Enumerable.Range(0, count)
            .Select(i => Input($"input{i}", Enumerable.Range(0, 3).Select(j => $"{i}.{j}" + new string('x', length)).ToArray()))
            .ToArray();
        using var ids = new SnapshotIdBuilder();

        Assert.Equal(ReferenceId("a-task", "code", inputs), ids.Compute("a-task", "code", inputs));
    }

    [Property(MaxTest = 300)]
    public bool OneBuilderReusedForSnapshotsOfEverySizeGivesEachTheReferenceId(int[][] shapes)
    {
        using var ids = new SnapshotIdBuilder();
        foreach (var shape in shapes ?? [])
        {
            var (task, code, inputs) = SnapshotFrom(shape ?? [], scale: 61);
            if (ids.Compute(task, code, inputs) != ReferenceId(task, code, inputs))
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 300)]
    public bool TwoSnapshotsShareAnIdExactlyWhenTaskCodeVersionAndOrderedNamedValuesAreTheSame(int[] shape)
    {
        var (task, code, inputs) = SnapshotFrom(shape ?? [], scale: 1);
        var variants = new List<(string Task, string Code, SnapshotInput[] Inputs)> { (task, code, inputs) };
        variants.Add((task + "a", code, inputs));
        variants.Add((task, code + "a", inputs));
        variants.Add((task + code[0], code[1..], inputs));           // a letter moved across the task/code boundary
        variants.Add((task, code, [.. inputs.Reverse()]));           // inputs in another order
        variants.Add((task, code, [.. inputs, Input("extra")]));     // one more, empty, input
        for (var i = 0; i < inputs.Length; i++)
        {
            var values = inputs[i].Values.Select(v => v.ValueId).ToArray();
            variants.Add((task, code, Replace(inputs, i, Input(inputs[i].Name + "a", values))));
            variants.Add((task, code, Replace(inputs, i, Input(inputs[i].Name, [.. values, "a"]))));
            variants.Add((task, code, Replace(inputs, i, Input(inputs[i].Name, [.. values.Reverse()]))));
            for (var j = 0; j < values.Length; j++)
            {
                var changed = values.ToArray();
                changed[j] += "b";
                variants.Add((task, code, Replace(inputs, i, Input(inputs[i].Name, changed))));
                variants.Add((task, code, Replace(inputs, i, Input(inputs[i].Name, [.. values.Where((_, k) => k != j)]))));
            }

            if (values.Length > 0)
            {
                // the first value moved into the name: "name", ["v", …] against "namev", […]
                variants.Add((task, code, Replace(inputs, i, Input(inputs[i].Name + values[0], values[1..]))));
            }

            if (i + 1 < inputs.Length && inputs[i].Values.Count > 0)
            {
                // the last value of input i moved to the front of input i+1
                var next = inputs[i + 1];
                var moved = Replace(inputs, i, Input(inputs[i].Name, values[..^1]));
                moved[i + 1] = Input(next.Name, [values[^1], .. next.Values.Select(v => v.ValueId)]);
                variants.Add((task, code, moved));
            }
        }

        using var ids = new SnapshotIdBuilder();
        var computed = variants.Select(v => (Key: Describe(v.Task, v.Code, v.Inputs), Id: ids.Compute(v.Task, v.Code, v.Inputs))).ToList();
        return computed.All(a => computed.All(b => (a.Key == b.Key) == (a.Id == b.Id)))
            && computed.All(c => c.Id.Length == 32 && c.Id.All(ch => ch is >= '0' and <= '9' or >= 'a' and <= 'f'));
    }

    /// <summary>The id computed independently of the builder: the bytes laid out in a MemoryStream, hashed in one go.</summary>
    private static string ReferenceId(string task, string code, IReadOnlyList<SnapshotInput> inputs)
    {
        using var message = new MemoryStream();
        void Write(string text, byte end)
        {
            message.Write(Encoding.UTF8.GetBytes(text));
            message.WriteByte(end);
        }

        Write(task, 0x00);
        Write(code, 0x00);
        foreach (var input in inputs)
        {
            message.WriteByte(0x01);
            Write(input.Name, 0x00);
            foreach (var value in input.Values)
            {
                Write(value.ValueId, 0x02);
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(message.ToArray()).AsSpan(0, 16));
    }

    /// <summary>A snapshot made from FsCheck's integers: task, code version, 0–3 inputs of 0–3 values; <paramref name="scale"/> stretches the texts.</summary>
    private static (string Task, string Code, SnapshotInput[] Inputs) SnapshotFrom(int[] shape, int scale)
    {
        var at = 0;
        int Next() => shape.Length == 0 ? 0 : Math.Abs(shape[at++ % shape.Length] % 1000);
        string Text(int minimum)
        {
            var length = minimum + (Next() % 4 * scale) + (Next() % 4);
            var first = Next();
            return string.Concat(Enumerable.Range(0, length).Select(k => Alphabet[(first + k) % Alphabet.Length]));
        }

        var task = Text(1);
        var code = Text(1);
        var inputs = Enumerable.Range(0, Next() % 4)
            .Select(i => Input($"in{i}" + Text(0), Enumerable.Range(0, Next() % 4).Select(_ => Text(0)).ToArray()))
            .ToArray();
        return (task, code, inputs);
    }

    private static SnapshotInput[] Replace(SnapshotInput[] inputs, int index, SnapshotInput replacement)
    {
        var copy = inputs.ToArray();
        copy[index] = replacement;
        return copy;
    }

    private static string Describe(string task, string code, IEnumerable<SnapshotInput> inputs) =>
        $"{Quote(task)} {Quote(code)} " + string.Join(" ", inputs.Select(i => $"{Quote(i.Name)}:[{string.Join(",", i.Values.Select(v => Quote(v.ValueId)))}]"));

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static SnapshotInput Input(string name, params string[] values) =>
        new(name, values.Select((v, i) => new ArrivedValue(v, name, i)).ToArray());
}
