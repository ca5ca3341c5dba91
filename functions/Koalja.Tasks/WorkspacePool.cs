using System.Collections.Concurrent;

namespace Koalja.Tasks;

/// <summary>
/// Working directories for executions, reused per task. Creating and deleting a directory tree per
/// execution made the file system (ext4) spend more CPU allocating inodes than the commands used; a
/// reused directory keeps its skeleton (<c>inputs/&lt;input&gt;/</c>, <c>outputs/</c>) and input files,
/// which are overwritten in place. Between executions everything the command made is removed, so an
/// execution never sees another's files.
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
    public void Return(string pipeline, string task, string directory, IReadOnlySet<string> keepInputs, IReadOnlySet<string> keepOutputs)
    {
        try
        {
            Clean(directory, keepInputs, keepOutputs);
            _free.GetOrAdd($"{pipeline}/{task}", _ => []).Add(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(directory);
        }
    }

    private static void Clean(string directory, IReadOnlySet<string> keepInputs, IReadOnlySet<string> keepOutputs)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            switch (entry.Name)
            {
                case "inputs" when entry is DirectoryInfo inputs:
                    // Input files stay (the next execution overwrites them); anything else goes.
                    foreach (var input in inputs.EnumerateFileSystemInfos())
                    {
                        if (input is not DirectoryInfo { } dir || !keepInputs.Contains(input.Name))
                        {
                            Remove(input);
                            continue;
                        }

                        foreach (var file in dir.EnumerateFileSystemInfos().Where(f => f is not FileInfo || !int.TryParse(f.Name, out _)))
                        {
                            Remove(file);
                        }
                    }

                    break;
                case "outputs" when entry is DirectoryInfo outputs:
                    foreach (var output in outputs.EnumerateFileSystemInfos())
                    {
                        if (output is FileInfo file && keepOutputs.Contains(file.Name))
                        {
                            // Keep the inode, but make it plainly stale: empty, and dated at the epoch.
                            // A command that writes the output gives it a new time; see IsStale.
                            using (file.Open(FileMode.Truncate, FileAccess.Write))
                            {
                            }

                            file.LastWriteTimeUtc = DateTime.UnixEpoch;
                        }
                        else
                        {
                            Remove(output); // never let an output of one execution look like the next one's
                        }
                    }

                    break;
                case "koalja.log" when entry is FileInfo:
                    break; // truncated by the next execution
                default:
                    Remove(entry);
                    break;
            }
        }
    }

    /// <summary>An output file left from an earlier execution that this one did not write.</summary>
    public static bool IsStale(string file) => File.GetLastWriteTimeUtc(file) == DateTime.UnixEpoch && new FileInfo(file).Length == 0;

    private static void Remove(FileSystemInfo entry)
    {
        if (entry is DirectoryInfo directory)
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
