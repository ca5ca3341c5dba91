using Koalja.Core.Events;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Koalja.Router.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Koalja.Cli.Commands;

/// <summary>
/// <c>koalja listen</c>: a CloudEvents receiver on 127.0.0.1 that prints every event it gets (binary, structured or
/// batch mode), for trying out a CloudEventSink or any other producer. It answers 202, or 400 with why an event is not valid.
/// </summary>
internal static class ListenCommand
{
    private const int MaxBody = 1 << 20;
    private const int Preview = 60;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 to receive events on", DefaultValueFactory = _ => 9090 };
        var command = new Command("listen", "Receive CloudEvents on 127.0.0.1 and print them (to try a CloudEventSink)") { port };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, parse.GetValue(port)));
            await using var app = builder.Build();
            app.Map("/{**path}", async (HttpContext http) =>
            {
                var lines = await DescribeAsync(http);
                lock (stdout) // one event's lines together; callers may read the writer under the same lock
                {
                    foreach (var line in lines.Text)
                    {
                        stdout.WriteLine(line);
                    }

                    stdout.Flush();
                }

                return Results.StatusCode(lines.Status);
            });
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                stderr.WriteLine($"koalja: cannot listen on 127.0.0.1:{parse.GetValue(port)}: {e.Message} (choose another with --port)");
                return 1;
            }

            stdout.WriteLine($"Listening for CloudEvents on http://127.0.0.1:{parse.GetValue(port)}/ (any path). Press Ctrl+C to stop.");
            stdout.Flush();
            await UpCommand.WaitForStopAsync(cancellationToken);
            await app.StopAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }

    private static async Task<(int Status, List<string> Text)> DescribeAsync(HttpContext http)
    {
        var request = http.Request;
        var lines = new List<string>();
        var mode = request.EventMode();
        using var body = new MemoryStream();
        var chunk = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            total += read;
            if (body.Length < MaxBody)
            {
                body.Write(chunk, 0, read); // what is shown; the rest is counted, not kept
            }
        }

        if (total > MaxBody)
        {
            lines.Add($"{Now()}  {request.Method} {request.Path}: {total:N0} bytes, more than this receiver shows");
            return (202, lines);
        }

        IReadOnlyList<IncomingEvent> events;
        if (mode is null)
        {
            lines.Add($"{Now()}  {request.Method} {request.Path}: not a CloudEvent ({request.ContentType ?? "no content type"}, {body.Length:N0} bytes)");
            return (400, lines);
        }

        if (mode == EventMode.Binary)
        {
            events = [request.ReadBinaryEvent()];
        }
        else
        {
            var (decoded, problem) = CloudEventBinding.ReadJson(body.ToArray(), mode.Value);
            if (problem is not null)
            {
                lines.Add($"{Now()}  {request.Method} {request.Path}: {problem.Message}");
                return (400, lines);
            }

            events = decoded!;
        }

        var status = 202;
        foreach (var incoming in events)
        {
            if (incoming.Event is not { } evt)
            {
                lines.Add($"{Now()}  {mode.Value.ToString().ToLowerInvariant()} event refused: {string.Join("; ", incoming.Violations.Select(v => v.Message))}");
                status = 400;
                continue;
            }

            var data = mode == EventMode.Binary ? body.ToArray() : CloudEventBinding.InlineData(evt);
            lines.Add($"{Now()}  {evt.Type}  {evt.Source}  id {evt.Id}  ({mode.Value.ToString().ToLowerInvariant()} mode)");
            var attributes = evt.GetPopulatedAttributes().Where(a => a.Key.Name is not ("specversion" or "type" or "source" or "id"))
                .Select(a => (a.Key.Name, Value: a.Key.Format(a.Value))).ToList();
            foreach (var (name, value) in attributes.Where(a => !a.Name.StartsWith("koalja", StringComparison.Ordinal)))
            {
                lines.Add($"    {name}: {value}");
            }

            var koalja = attributes.Where(a => a.Name.StartsWith("koalja", StringComparison.Ordinal))
                .Select(a => $"{a.Name["koalja".Length..]}={(a.Value.Length > 16 ? a.Value[..12] + "…" : a.Value)}").ToList();
            if (koalja.Count > 0)
            {
                lines.Add($"    koalja: {string.Join(" ", koalja)}");
            }

            lines.Add(data is null or { Length: 0 } ? "    (no data in the event)" : $"    data: {data.Length:N0} B  {PreviewOf(data)}");
        }

        return (status, lines);
    }

    private static string PreviewOf(byte[] data)
    {
        var text = Encoding.UTF8.GetString(data, 0, Math.Min(data.Length, Preview));
        var printable = new string(text.Select(c => c == '\n' ? '⏎' : char.IsControl(c) ? '·' : c).ToArray());
        return data.Length > Preview ? printable + "…" : printable;
    }

    private static string Now() => DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

}
