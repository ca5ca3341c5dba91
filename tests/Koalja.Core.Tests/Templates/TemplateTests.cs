using Koalja.Core.Spec;
using Koalja.Core.Templates;

namespace Koalja.Core.Tests.Templates;

public sealed class TemplateTests
{
    private static readonly TaskSpec Task = new()
    {
        Name = "countLines",
        Inputs =
        [
            new TaskInputSpec { Name = "one", TypeRef = "t" },
            new TaskInputSpec { Name = "many", TypeRef = "t", MinSequenceLength = 2 },
        ],
        Outputs = [new TaskOutputSpec { Name = "out", TypeRef = "t", Options = new Dictionary<string, string> { ["query"] = ".url" } }],
    };

    private static readonly IReadOnlyDictionary<string, object?> Data = TemplateData.Build(
        Task,
        new PipelineSpec { Tasks = [Task] },
        new Dictionary<string, IReadOnlyList<TemplateFile>>
        {
            ["one"] = [new TemplateFile("inputs/one/0", "blob:1", "v1", "aa", 3)],
            ["many"] = [new TemplateFile("inputs/many/0"), new TemplateFile("inputs/many/1")],
        },
        new Dictionary<string, TemplateFile> { ["out"] = new("outputs/out") },
        "snap1",
        name => name);

    [Theory]
    [InlineData("cat {{.inputs.one.path}} > {{.outputs.out.path}}", "cat inputs/one/0 > outputs/out")]
    [InlineData("cat {{ .inputs.one.path }}", "cat inputs/one/0")]
    [InlineData("cat {{range .inputs.many}} {{.path}} {{end}}|", "cat  inputs/many/0  inputs/many/1 |")]
    [InlineData("{{(index .outputs ((index .task.Outputs 0).Name)).path}}", "outputs/out")]
    [InlineData("{{index ((index .task.Outputs 0).Options) \"query\"}}", ".url")]
    [InlineData("{{(index .task.Outputs 0).Options.query}}", ".url")]
    [InlineData("{{.task.Name}}/{{.snapshot.id}}", "countLines/snap1")]
    [InlineData("{{len .inputs.many}} {{.inputs.one.base}} {{.inputs.one.dir}}", "2 0 inputs/one")]
    [InlineData("a {{- /* comment */ -}} b", "ab")]
    [InlineData("{{if .inputs.many}}yes{{else}}no{{end}}", "yes")]
    [InlineData("{{if .task.Type}}typed{{else}}command{{end}}", "command")]
    [InlineData("{{readURIAsText .inputs.one.uri}}", "content of blob:1")]
    [InlineData("no actions at all", "no actions at all")]
    public void RendersTheOriginalSubset(string text, string expected) =>
        Assert.Equal(expected, Template.Parse(text).Render(Data, uri => System.Text.Encoding.UTF8.GetBytes($"content of {uri}")));

    [Theory]
    [InlineData("{{.x | printf}}", "pipes ('|') are not supported in Koalja templates")]
    [InlineData("{{$x := 1}}", "variables ('$') are not supported in Koalja templates")]
    [InlineData("{{with .x}}{{end}}", "'with' is not supported in Koalja templates")]
    [InlineData("{{range .x}}", "{{range}} without {{end}}")]
    [InlineData("{{end}}", "unexpected {{end}}")]
    [InlineData("{{.x", "unclosed action: '{{' without '}}'")]
    [InlineData("{{printf \"%s\" .x}}", "unknown function 'printf'")]
    [InlineData("{{}}", "empty action '{{}}'")]
    public void RefusesWhatItDoesNotSupport(string text, string message)
    {
        var error = Assert.Throws<TemplateException>(() => Template.Parse(text));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("{{.inputs.on.path}}", ".inputs has no field 'on'", "did you mean 'one'?")]
    [InlineData("{{.inputs.many.path}}", ".inputs.many is a list; it has no field 'path'", "it is a list: use {{range ...}} or (index ... 0)")]
    [InlineData("{{index .inputs.many 5}}", "index: 5 is out of range (the list has 2)", null)]
    public void MissingFieldsAreErrorsNotEmptyStrings(string text, string message, string? hint)
    {
        var error = Assert.Throws<TemplateException>(() => Template.Parse(text).Render(Data, _ => []));
        Assert.Equal(message, error.Message);
        Assert.Equal(hint, error.Hint);
    }
}
