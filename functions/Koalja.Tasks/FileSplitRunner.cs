using Koalja.Core.Contract;
using System.Text;
using Koalja.Storage;

namespace Koalja.Tasks;

/// <summary>Built-in <c>FileSplit</c>: each line of each input file becomes a value of the first output.</summary>
internal sealed class FileSplitRunner(IArtifactStore store, TimeProvider time) : ITaskRunner
{
    public async Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var task = invocation.TaskSpec;
        if (task.Outputs.Count == 0)
        {
            return new TaskOutcome(false, [], started, time.GetUtcNow(), Error: $"FileSplit task '{task.Name}' has no output");
        }

        var output = task.Outputs[0].Name;
        var produced = new List<ProducedValue>();
        foreach (var value in invocation.Inputs.SelectMany(i => i.Values))
        {
            await using var stream = await store.OpenReadAsync(value.Sha256, cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                using var content = new MemoryStream(Encoding.UTF8.GetBytes(line));
                var stored = await store.PutAsync(content, cancellationToken: cancellationToken);
                produced.Add(new ProducedValue(output, produced.Count, stored.Sha256, stored.Size, "text/plain"));
            }
        }

        return new TaskOutcome(true, produced, started, time.GetUtcNow());
    }
}
