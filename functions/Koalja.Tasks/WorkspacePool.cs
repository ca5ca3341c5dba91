using System.Collections.Concurrent;

namespace Koalja.Tasks;

/// <summary>
/// Working directories for executions, reused per task. Creating and deleting a directory tree per
/// execution made the file system (ext4) spend more CPU allocating inodes than the commands used; a
/// reused directory keeps its skeleton (<c>inputs/&lt;input&gt;/</c>, <c>outputs/</c>), its input files, its
/// declared output files (emptied and dated at the epoch) and its log, which the next execution overwrites in place —
/// only while each is a plain file with one name. Between executions everything else the command made is removed,
/// and so is every symbolic link (at any level,
/// without following it) and every file that has become a hard link: an execution never sees another's files, and
/// nothing a command planted makes the server write outside the directory later.
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
            if (IsLink(new DirectoryInfo(directory)))
            {
                File.Delete(directory); // the command replaced its directory with a link: drop the link, never reuse it
                return;
            }

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
                case "inputs" when entry is DirectoryInfo inputs && !IsLink(inputs):
                    // Input files stay (the next execution replaces them); anything else goes.
                    foreach (var input in inputs.EnumerateFileSystemInfos())
                    {
                        if (input is not DirectoryInfo { } dir || IsLink(dir) || !keepInputs.Contains(input.Name))
                        {
                            Remove(input);
                            continue;
                        }

                        foreach (var file in dir.EnumerateFileSystemInfos().Where(f => !int.TryParse(f.Name, out _) || !FileLinks.IsSoleName(f)))
                        {
                            Remove(file);
                        }
                    }

                    break;
                case "outputs" when entry is DirectoryInfo outputs && !IsLink(outputs):
                    foreach (var output in outputs.EnumerateFileSystemInfos())
                    {
                        if (output is FileInfo file && keepOutputs.Contains(file.Name) && FileLinks.IsSoleName(file))
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
                case "koalja.log" when FileLinks.IsSoleName(entry):
                    break; // truncated by the next execution
                default:
                    Remove(entry);
                    break;
            }
        }
    }

    /// <summary>An output file left from an earlier execution that this one did not write.</summary>
    public static bool IsStale(string file) => File.GetLastWriteTimeUtc(file) == DateTime.UnixEpoch && new FileInfo(file).Length == 0;

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
