namespace Koalja.Testing;

/// <summary>The repository a test or benchmark runs from: the folder holding Koalja.sln, found by walking up from the assembly.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Koalja.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Koalja.sln not found above " + AppContext.BaseDirectory + "; run from inside the repository.");
    }
}
