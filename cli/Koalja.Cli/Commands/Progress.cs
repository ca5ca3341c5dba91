namespace Koalja.Cli.Commands;

/// <summary>A one-line progress bar on a terminal; silent when stderr is redirected, except for the final line.</summary>
internal sealed class Progress(TextWriter stderr)
{
    private readonly bool _interactive = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;

    public void Show(string what, long done, long total)
    {
        if (!_interactive)
        {
            return;
        }

        const int width = 30;
        var filled = total == 0 ? width : (int)(width * Math.Min(done, total) / total);
        stderr.Write($"\r{what,-9} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{total}   ");
    }

    public void Done(string message)
    {
        if (_interactive)
        {
            stderr.Write("\r" + new string(' ', 60) + "\r");
        }

        stderr.WriteLine(message);
    }
}
