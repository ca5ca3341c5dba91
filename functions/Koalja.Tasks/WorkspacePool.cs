using Koalja.Tasks.Sandboxing;

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
internal sealed class WorkspacePool(string root) : IAsyncDisposable
{
    /// <summary>A workspace idle this long ends its sandbox (the slot it served has retired); the directory stays for reuse.</summary>
    private static readonly TimeSpan SandboxIdle = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, Stack<Workspace>> _free = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _ending = [];
    private int _next;
    private bool _disposed;

    public Workspace Rent(string pipeline, string task)
    {
        lock (_free)
        {
            EndIdleSandboxes();
            if (_free.TryGetValue($"{pipeline}/{task}", out var free) && free.TryPop(out var reused))
            {
                return reused;
            }
        }

        var workspace = new Workspace(Path.Combine(root, $"ws{Interlocked.Increment(ref _next)}"));
        Directory.CreateDirectory(workspace.Directory);
        Directory.CreateDirectory(Path.Combine(workspace.Directory, "inputs"));
        Directory.CreateDirectory(Path.Combine(workspace.Directory, "outputs"));
        Directory.CreateDirectory(workspace.Scratch);
        return workspace;
    }

    /// <summary>Cleans the workspace for its next execution and keeps it; on any doubt, removes it (and ends its sandbox) instead.</summary>
    public void Return(string pipeline, string task, Workspace workspace, IReadOnlySet<string> keepInputs, IReadOnlySet<string> keepOutputs)
    {
        var directory = workspace.Directory;
        try
        {
            if (IsLink(new DirectoryInfo(directory)) || IsLink(new DirectoryInfo(workspace.Scratch)))
            {
                File.Delete(directory); // the command replaced its directory with a link: drop the link, never reuse it
                Discard(workspace);
                return;
            }

            Clean(directory, keepInputs, keepOutputs);
            CleanScratch(new DirectoryInfo(workspace.Scratch), workspace.ScratchMounts);

            if (workspace.Sandbox is { IsAlive: false } ended)
            {
                workspace.Sandbox = null;
                Track(ended.DisposeAsync().AsTask());
            }

            lock (_free)
            {
                if (_disposed)
                {
                    Discard(workspace);
                    return;
                }

                workspace.IdleSince = Environment.TickCount64;
                if (!_free.TryGetValue($"{pipeline}/{task}", out var free))
                {
                    _free[$"{pipeline}/{task}"] = free = new Stack<Workspace>();
                }

                free.Push(workspace);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Discard(workspace);
        }
    }

    /// <summary>Ends every sandbox the pool keeps.</summary>
    public async ValueTask DisposeAsync()
    {
        List<Workspace> all;
        lock (_free)
        {
            _disposed = true;
            all = [.. _free.Values.SelectMany(f => f)];
            _free.Clear();
        }

        await Task.WhenAll(all.Where(w => w.Sandbox is not null).Select(w => w.Sandbox!.DisposeAsync().AsTask()));
        Task[] ending;
        lock (_ending)
        {
            ending = [.. _ending];
        }

        await Task.WhenAll(ending); // what was being ended already: sandboxes idle too long, workspaces discarded
    }

    /// <summary>Ends the sandboxes of workspaces no slot used for a while (called with the lock held).</summary>
    private void EndIdleSandboxes()
    {
        var now = Environment.TickCount64;
        foreach (var workspace in _free.Values.SelectMany(f => f))
        {
            if (workspace.Sandbox is { } sandbox && now - workspace.IdleSince > SandboxIdle.TotalMilliseconds)
            {
                workspace.Sandbox = null;
                Track(sandbox.DisposeAsync().AsTask());
            }
        }
    }

    /// <summary>Ends the workspace's sandbox, then removes its directories (what still runs there could write in them meanwhile).</summary>
    private void Discard(Workspace workspace)
    {
        var sandbox = workspace.Sandbox;
        workspace.Sandbox = null;
        Track(EndAndRemoveAsync(sandbox, workspace));
    }

    private static async Task EndAndRemoveAsync(CommandSandbox? sandbox, Workspace workspace)
    {
        if (sandbox is not null)
        {
            await sandbox.DisposeAsync();
        }

        TryDelete(workspace.Directory);
        TryDelete(workspace.Scratch);
    }

    /// <summary>Keeps a sandbox's ending until it is done, for <see cref="DisposeAsync"/> to wait for.</summary>
    private void Track(Task ending)
    {
        lock (_ending)
        {
            _ending.Add(ending);
        }

        _ = ending.ContinueWith(t =>
        {
            lock (_ending)
            {
                _ending.Remove(t);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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

    /// <summary>
    /// Empties a sandbox's <c>/tmp</c>, but for the directories bubblewrap made in it as mount points (a working directory
    /// under <c>/tmp</c> is bound there): removing one would unmount what the running sandbox sees there.
    /// </summary>
    private static void CleanScratch(DirectoryInfo directory, IReadOnlyList<string> mounts)
    {
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            var path = entry.FullName;
            if (entry is DirectoryInfo inner && !IsLink(inner) && mounts.Any(m => m == path || m.StartsWith(path + "/", StringComparison.Ordinal)))
            {
                if (!mounts.Contains(path))
                {
                    CleanScratch(inner, mounts); // on the way to a mount point
                }

                continue;
            }

            Remove(entry);
        }
    }

    /// <summary>An output file left from an earlier execution that this one did not write.</summary>
    public static bool IsStale(string file) => File.GetLastWriteTimeUtc(file) == DateTime.UnixEpoch && new FileInfo(file).Length == 0;

    /// <summary>A symbolic link (to anything, or dangling).</summary>
    public static bool IsLink(FileSystemInfo entry) => entry.LinkTarget is not null;

    private static void Remove(FileSystemInfo entry)
    {
        if (FileTrees.MayNotBeUtf8(entry.Name))
        {
            // .NET cannot name it to delete it (and would say nothing): the workspace goes, removed by bytes
            throw new IOException($"{entry.FullName} may not be named in UTF-8");
        }

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
            FileTrees.Remove(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the next start clears the work root
        }
    }
}

/// <summary>
/// A working directory, with its scratch directory (the sandbox's <c>/tmp</c>, beside it: a command cannot remove it) and
/// the sandbox of the slot that uses it, once one started.
/// </summary>
internal sealed class Workspace(string directory)
{
    public string Directory { get; } = directory;

    public string Scratch { get; } = directory + ".tmp";

    public CommandSandbox? Sandbox { get; set; }

    /// <summary>The mount points bubblewrap made in <see cref="Scratch"/> (by their paths there), kept when it is emptied.</summary>
    public IReadOnlyList<string> ScratchMounts { get; set; } = [];

    public long IdleSince { get; set; }
}
