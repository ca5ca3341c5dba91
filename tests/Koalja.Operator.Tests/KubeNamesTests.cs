namespace Koalja.Operator.Tests;

public sealed class KubeNamesTests
{
    [Theory]
    [InlineData("linecount", "router", "linecount-router")]
    [InlineData("linecount", "t", "linecount-t")]
    public void PlainPartsJoinAsTheyAre(string a, string b, string expected) => Assert.Equal(expected, KubeNames.Join(a, b));

    [Fact]
    public void CamelCaseIsLowerCasedWithAHashAndNeverCollides()
    {
        var upper = KubeNames.Task("linecount", "countLines");
        var lower = KubeNames.Task("linecount", "countlines");
        Assert.Matches("^linecount-t-countlines-[0-9a-f]{8}$", upper);
        Assert.Equal("linecount-t-countlines", lower);
        Assert.NotEqual(upper, lower);
    }

    [Fact]
    public void AJoinThatWouldBeAmbiguousIsHashed()
    {
        Assert.NotEqual(KubeNames.Task("a-b", "c"), KubeNames.Task("a", "b-c"));
        Assert.NotEqual(KubeNames.Router("x"), KubeNames.Task("x", "router"));
        Assert.NotEqual(KubeNames.Task("x-t", "router"), KubeNames.Task("x", "router"));
    }

    [Fact]
    public void EveryNameIsAValidDnsLabelEvenFromOverlongOrOddParts()
    {
        var names = new[]
        {
            KubeNames.Task(new string('p', 63), new string('T', 63)),
            KubeNames.Task("p", "under_score"),
            KubeNames.Task("p", "ends-"),
            KubeNames.Task("p", "_x_"),
            KubeNames.Join("-"),
        };
        Assert.All(names, n => Assert.True(KubeNames.IsDnsLabel(n), n));
        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(KubeNames.MaxLength, names[0].Length);
    }
}

public sealed class DomainConfigTests
{
    private static readonly Dictionary<string, string> Data = new()
    {
        ["example.com"] = "",
        ["team-a.example.com"] = "selector: {team: a}",
        ["gpu.team-a.example.com"] = "selector:\n  team: a\n  hardware: gpu\n",
        ["b.example.com"] = "selector: {hardware: gpu}",
        ["a.example.com"] = "selector: {hardware: gpu}",
    };

    [Fact]
    public void TheMostSpecificMatchingSelectorWinsAndTiesGoToTheFirstSuffix()
    {
        var config = DomainConfig.Parse(Data, "default/koalja-domain-config");
        Assert.Equal("example.com", config.Lookup(null));
        Assert.Equal("example.com", config.Lookup(new Dictionary<string, string> { ["team"] = "b" }));
        Assert.Equal("team-a.example.com", config.Lookup(new Dictionary<string, string> { ["team"] = "a" }));
        Assert.Equal("gpu.team-a.example.com", config.Lookup(new Dictionary<string, string> { ["team"] = "a", ["hardware"] = "gpu" }));
        Assert.Equal("a.example.com", config.Lookup(new Dictionary<string, string> { ["hardware"] = "gpu" })); // a tie of one key each
    }

    [Fact]
    public void WithoutADefaultAPipelineMatchingNothingHasNoDomain()
    {
        var config = DomainConfig.Parse(new Dictionary<string, string> { ["a.example.com"] = "selector: {team: a}" }, "ns/koalja-domain-config");
        Assert.Null(config.Lookup(new Dictionary<string, string> { ["team"] = "b" }));
    }

    [Fact]
    public void ThePipelineNamespacesConfigMapComesBeforeTheOperatorsAndTheDefaultIsLast()
    {
        var mine = new Dictionary<string, string> { ["mine.example.org"] = "" };
        var operators = new Dictionary<string, string> { ["cluster.example.org"] = "" };
        Assert.Equal(("mine.example.org", "team/koalja-domain-config"), Pick(mine, operators));
        Assert.Equal(("cluster.example.org", "koalja-system/koalja-domain-config"), Pick(null, operators));
        Assert.Equal("example.com", Pick(null, null).Suffix);

        static (string? Suffix, string Source) Pick(Dictionary<string, string>? ns, Dictionary<string, string>? op)
        {
            var (config, source) = DomainConfig.Choose(ns, "team", op, "koalja-system");
            return (config.Lookup(null), source);
        }
    }

    [Fact]
    public void BadEntriesAreAllNamed()
    {
        var e = Assert.Throws<FormatException>(() => DomainConfig.Parse(new Dictionary<string, string>
        {
            ["Not_A.Domain"] = "",
            ["x.example.com"] = "team: a",
            ["y.example.com"] = "selector: [a, b]",
        }, "ns/koalja-domain-config"));
        Assert.Contains("'Not_A.Domain' is not a domain suffix", e.Message, StringComparison.Ordinal);
        Assert.Contains("'x.example.com': the value must be empty (the default) or 'selector: {label: value, ...}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'y.example.com': 'selector' must be a map of label: value", e.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => DomainConfig.Parse(new Dictionary<string, string>(), "ns/koalja-domain-config"));
    }
}
