using System.Reflection;
using System.Text.RegularExpressions;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;

namespace Koalja.Core.Tests.Spec;

/// <summary>
/// One bad file per validation rule, under testdata/rules. Each file says in its header what must be
/// reported: <c># expect: error KJ0215 18:16 TypeRef 'txt' not found</c>. A file must produce exactly
/// those diagnostics: the code, the position and the message (or any message for <c>*</c>).
/// </summary>
public sealed partial class ValidationRuleTests
{
    /// <summary>Codes about the file itself rather than its content; RobustnessTests covers them.</summary>
    private static readonly string[] FileLevelCodes =
    [
        DiagnosticCodes.FileUnreadable, DiagnosticCodes.EmptyFile, DiagnosticCodes.NotText, DiagnosticCodes.FileTooLarge,
    ];

    public static TheoryData<string> RuleFiles() => new(RuleFileNames());

    private static IEnumerable<string> RuleFileNames() =>
        Directory.GetFiles(TestData.Dir("rules"), "*.yaml").Select(f => Path.GetFileName(f)).Order();

    [Theory]
    [MemberData(nameof(RuleFiles))]
    public void RuleFileReportsExactlyTheExpectedDiagnostics(string name)
    {
        var path = TestData.Dir("rules", name);
        var expected = ReadExpectations(path);
        Assert.NotEmpty(expected);

        var result = PipelineLoader.LoadFile(path);

        var actual = result.Diagnostics.Select(d => $"{d.Severity.ToString().ToLowerInvariant()} {d.Code} {d.Position}").ToList();
        Assert.Equal(expected.Select(e => $"{e.Severity} {e.Code} {e.Position}").Order(), actual.Order());
        foreach (var e in expected.Where(e => e.Message != "*"))
        {
            Assert.Contains(result.Diagnostics, d => d.Code == e.Code && d.Message == e.Message);
        }
    }

    [Fact]
    public void EveryDiagnosticCodeHasARuleFile()
    {
        var covered = RuleFileNames().SelectMany(name => ReadExpectations(TestData.Dir("rules", name))).Select(e => e.Code).ToHashSet();
        var codes = typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!);

        var missing = codes.Except(FileLevelCodes).Where(c => !covered.Contains(c)).ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void EveryDiagnosticCodeIsUnique()
    {
        var codes = typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToList();

        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^KJ[0-9]{4}$", c));
    }

    [Fact]
    public void EveryDiagnosticCodeIsDocumented()
    {
        var docs = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "docs", "diagnostics.md"));
        var codes = typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!);

        Assert.All(codes, c => Assert.Contains($"| {c} |", docs, StringComparison.Ordinal));
    }

    private static List<Expectation> ReadExpectations(string path) =>
        File.ReadLines(path)
            .Select(line => ExpectLine().Match(line))
            .Where(m => m.Success)
            .Select(m => new Expectation(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value))
            .ToList();

    [GeneratedRegex(@"^# expect: (error|warning|note) (KJ\d{4}) (\d+:\d+) (.*)$")]
    private static partial Regex ExpectLine();

    private sealed record Expectation(string Severity, string Code, string Position, string Message);
}
