using Koalja.Core.Spec;

namespace Koalja.Core.Tests.Spec;

/// <summary>The original's defaults: GetMinSequenceLength, GetMaxSequenceLength, GetSlide, policies.</summary>
public sealed class ModelDefaultsTests
{
    [Theory]
    [InlineData(null, null, null, 1, 1)]
    [InlineData(null, 2L, null, 2, 2)]
    [InlineData(null, 1L, 3L, 1, 3)]
    [InlineData(4L, null, null, 4, 4)]
    [InlineData(4L, 1L, 9L, 4, 4)]
    [InlineData(null, null, 5L, 1, 5)]
    public void SequenceLengthsFollowTheOriginalDefaults(long? required, long? min, long? max, long expectedMin, long expectedMax)
    {
        var input = new TaskInputSpec { Name = "i", RequiredSequenceLength = required, MinSequenceLength = min, MaxSequenceLength = max };

        Assert.Equal((expectedMin, expectedMax), (input.MinLength, input.MaxLength));
    }

    [Fact]
    public void SlideDefaultsToOne() => Assert.Equal(1, new TaskInputSpec().SlideLength);

    [Fact]
    public void AnEmptySnapshotPolicyIsAllNew() => Assert.Equal(SnapshotPolicy.AllNew, new TaskSpec().EffectiveSnapshotPolicy);

    [Fact]
    public void AnEmptyLaunchPolicyIsAutoWithInputsAndCustomWithout()
    {
        Assert.Equal(LaunchPolicy.Auto, new TaskSpec { Inputs = [new TaskInputSpec { Name = "i" }] }.EffectiveLaunchPolicy);
        Assert.Equal(LaunchPolicy.Custom, new TaskSpec { Outputs = [new TaskOutputSpec { Name = "o" }] }.EffectiveLaunchPolicy);
    }

    [Fact]
    public void AnEmptyReadinessIsSucceeded() => Assert.Equal(OutputReadiness.Succeeded, new TaskOutputSpec().EffectiveReady);

    [Fact]
    public void PoliciesAreCaseSensitiveAsInTheOriginal()
    {
        Assert.False(SpecEnums.TryParseSnapshotPolicy("allnew", out _));
        Assert.False(SpecEnums.TryParseSnapshotPolicy("1", out _));
        Assert.True(SpecEnums.TryParseSnapshotPolicy("SwapNew4Old", out var p));
        Assert.Equal(SnapshotPolicy.SwapNew4Old, p);
    }

    [Fact]
    public void SnapshotInputsLeaveOutMergedInputs()
    {
        var task = new TaskSpec { Inputs = [new TaskInputSpec { Name = "a" }, new TaskInputSpec { Name = "b", MergeInto = "a" }] };

        Assert.Equal(["a"], task.SnapshotInputs.Select(i => i.Name));
    }

    [Theory]
    [InlineData("a/b", true)]
    [InlineData("a/", false)]
    [InlineData("/b", false)]
    [InlineData("a/b/c", false)]
    [InlineData("ab", false)]
    public void TaskRefsSplitOnOneSlash(string text, bool valid) => Assert.Equal(valid, TaskRef.TryParse(text, out _));

    [Theory]
    [InlineData(8501L, 9501L, true)]
    [InlineData(8501L, 8501L, false)]
    [InlineData(8501L, null, false)]
    public void APortNeedsAProxyWhenItsLocalPortDiffers(long port, long? localPort, bool needsProxy) =>
        Assert.Equal(needsProxy, new ServicePortSpec { Port = port, LocalPort = localPort }.NeedsProxy);

    [Fact]
    public void TheExamplesInTheRepositoryAreValid()
    {
        var examples = Directory.GetFiles(Path.Combine(TestData.RepositoryRoot, "examples"), "*.yaml");

        Assert.NotEmpty(examples);
        Assert.All(examples, file =>
        {
            var result = Koalja.Core.Loading.PipelineLoader.LoadFile(file);
            Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
            Assert.Single(result.Pipelines);
        });
    }
}
