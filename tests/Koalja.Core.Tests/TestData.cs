namespace Koalja.Core.Tests;

/// <summary>Locations of test inputs: files copied next to the test assembly, and the repository's own examples.</summary>
internal static class TestData
{
    public static string Dir(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "testdata", .. parts]);

    /// <summary>The repository root (the folder holding Koalja.sln), found by walking up from the test assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Koalja.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Koalja.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
