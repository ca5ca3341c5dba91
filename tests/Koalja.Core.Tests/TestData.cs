namespace Koalja.Core.Tests;

/// <summary>Locations of test inputs: files copied next to the test assembly, and the repository's own examples.</summary>
internal static class TestData
{
    public static string RepositoryRoot => Testing.Repository.Root;

    public static string Dir(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "testdata", .. parts]);
}
