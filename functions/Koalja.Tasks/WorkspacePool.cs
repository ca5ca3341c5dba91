using System.Collections.Concurrent;

namespace Koalja.Tasks;

/// <summary>
/// Working directories for executions, reused per task. Creating and deleting a directory tree per
/// execution made the file system (ext4) spend more CPU allocating inodes than the commands used; a
/// reused directory keeps its skeleton (<c>inputs/&lt;input&gt;/</c>, <c>outputs/</c>) and input files,
/// which the next execution replaces (a new file renamed over the old name: never written in place, so never
/// through a hard link). Between executions everything the command made is removed — outputs too — and so is every
/// symbolic link, at any level, without following it: an execution never sees another's files, and nothing a
/// command planted makes the server write outside the directory later.
/// </summary>
internal sealed class WorkspacePool(string root)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _free = new(StringComparer.Ordinal);
    private int _next;

    public string Rent(string pipeline, string task)
    {
        if (_free.GetOrAdd($"{pipeline}/{task}", _ => []).TryTake(out var directory))
        {
            return directory;
        }

        directory = Path.Combine(root, $"ws{Interlocked.Increment(ref _next)}");
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Cleans the directory for its next execution and keeps it; on any doubt, removes it instead.</summary>
    public void Return(string pipeline, string task, string directory, IReadOnlySet<string> keepInputs)
    {
        try
        {
            if (IsLink(new DirectoryInfo(directory)))
            {
                File.Delete(directory); // the command replaced its directory with a link: drop the link, never reuse it
                return;
            }

            Clean(directory, keepInputs);
            _free.GetOrAdd($"{pipeline}/{task}", _ => []).Add(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(directory);
        }
    }

    private static void Clean(string directory, IReadOnlySet<string> keepInputs)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            switch (entry.Name)
            {
                case "inputs" when entry is DirectoryInfo inputs && !IsLink(inputs):
                    // Input files stay (the next execution replaces them); anything else goes.
                    foreach (var input in inputs.EnumerateFileSystemInfos())
                    {
                        if (input is not DirectoryInfo { } dir || IsLink(dir) || !keepInputs.Contains(input.Name))
                        {
                            Remove(input);
                            continue;
                        }

                        foreach (var file in dir.EnumerateFileSystemInfos().Where(f => f is not FileInfo || IsLink(f) || !int.TryParse(f.Name, out _)))
                        {
                            Remove(file);
                        }
                    }

                    break;
                case "outputs" when entry is DirectoryInfo outputs && !IsLink(outputs):
                    foreach (var output in outputs.EnumerateFileSystemInfos())
                    {
                        Remove(output); // never let an output of one execution look like the next one's
                    }

                    break;
                default:
                    Remove(entry);
                    break;
            }
        }
    }

    /// <summary>A symbolic link (to anything, or dangling).</summary>
    public static bool IsLink(FileSystemInfo entry) => entry.LinkTarget is not null;

    private static void Remove(FileSystemInfo entry)
    {
        if (IsLink(entry))
        {
            File.Delete(entry.FullName); // the link itself, never what it points at
        }
        else if (entry is DirectoryInfo directory)
        {
            directory.Delete(recursive: true);
        }
        else
        {
            entry.Delete();
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the next start clears the work root
        }
    }
}
