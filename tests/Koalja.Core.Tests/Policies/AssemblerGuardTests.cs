using System.Text.Json;
using Koalja.Core.Policies;
using Koalja.Core.Spec;
using static Koalja.Core.Tests.Policies.Tasks;

namespace Koalja.Core.Tests.Policies;

/// <summary>The policy engine's public entry points refuse what they cannot work with, and say what it was.</summary>
public sealed class AssemblerGuardTests
{
    private static readonly TaskSpec TwoInputs = Task(SnapshotPolicy.AllNew, Input("A"), Input("B"));

    [Fact]
    public void AnAssemblerNeedsATask() =>
        Assert.Equal("task", Assert.Throws<ArgumentNullException>(() => new SnapshotAssembler(null!, "v1")).ParamName);

    [Fact]
    public void AnAssemblerNeedsACodeVersion()
    {
        Assert.Equal("codeVersion", Assert.Throws<ArgumentException>(() => new SnapshotAssembler(TwoInputs, "")).ParamName);
        Assert.Equal("codeVersion", Assert.Throws<ArgumentNullException>(() => new SnapshotAssembler(TwoInputs, null!)).ParamName);
    }

    [Fact]
    public void TheCodeVersionCannotBeChangedToNothing()
    {
        using var assembler = new SnapshotAssembler(TwoInputs, "v1");

        Assert.Throws<ArgumentException>(() => assembler.CodeVersion = "");
        Assert.Throws<ArgumentNullException>(() => assembler.CodeVersion = null!);
        Assert.Equal("v1", assembler.CodeVersion);
    }

    [Fact]
    public void ATaskWithoutSnapshotInputsIsRefusedNamingTheTask()
    {
        var error = Assert.Throws<ArgumentException>(() => new SnapshotAssembler(new TaskSpec { Name = "drop", Type = "FileDrop" }, "v1"));

        Assert.StartsWith("Task 'drop' has no snapshot inputs; it never runs on snapshots.", error.Message, StringComparison.Ordinal);
        Assert.Equal("task", error.ParamName);
    }

    [Fact]
    public void AValueOnAnUnknownInputIsRefusedNamingTaskAndInput()
    {
        using var assembler = new SnapshotAssembler(TwoInputs, "v1");

        var error = Assert.Throws<ArgumentException>(() => assembler.Apply(new ValueArrived("C", "c1")));

        Assert.StartsWith("Task 'task' has no input 'C'.", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, assembler.NextArrival);
    }

    [Fact]
    public void AnEventIsNeeded()
    {
        using var assembler = new SnapshotAssembler(TwoInputs, "v1");

        Assert.Equal("e", Assert.Throws<ArgumentNullException>(() => assembler.Apply(null!)).ParamName);
    }

    [Fact]
    public void ReloadingNeedsAState() =>
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => SnapshotAssembler.FromState(TwoInputs, "v1", null!)).ParamName);

    [Theory]
    [InlineData("B,A")]   // the same inputs in another order
    [InlineData("A,C")]   // another input
    [InlineData("A")]     // fewer inputs
    [InlineData("A,B,C")] // more inputs
    [InlineData("")]      // none
    public void AStateOfOtherInputsIsRefused(string inputs)
    {
        var state = new AssemblerState(0, 0, [.. inputs.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(i => new StreamState(i, [], []))], []);

        var error = Assert.Throws<ArgumentException>(() => SnapshotAssembler.FromState(TwoInputs, "v1", state));

        Assert.StartsWith("The state does not match the inputs of task 'task'.", error.Message, StringComparison.Ordinal);
        Assert.Equal("state", error.ParamName);
    }

    [Fact]
    public void RebuildingAStateFromRowsNeedsTheTask() =>
        Assert.Equal("task", Assert.Throws<ArgumentNullException>(() => AssemblerStateRows.Rebuild(null!, [], [], 0, 0)).ParamName);

    [Fact]
    public void APersistedStateOfNullIsRefusedSayingSo() =>
        Assert.Equal("The assembler state is null.", Assert.Throws<JsonException>(() => AssemblerStateJson.Deserialize("null")).Message);
}
