namespace Koalja.Cli.Tests;

/// <summary><c>koalja render</c> prints what the operator would create, and refuses what it cannot build.</summary>
public sealed class RenderCommandTests
{
    private static string Example(string name) => Path.Combine(Testing.Repository.Root, "examples", name + ".yaml");

    [Fact]
    public async Task ItPrintsEachObjectOfThePipelineAsYaml()
    {
        var (code, yaml, error) = await CliRunner.RunAsync("render", Example("linecount"), "-n", "team-a", "--s3-bucket", "values", "--image-pull-policy", "Never");

        Assert.True(code == 0, error);
        var kinds = yaml.Split('\n').Where(l => l.StartsWith("kind: ", StringComparison.Ordinal)).Select(l => l[6..]).ToList();
        Assert.Equal(["ConfigMap", "PersistentVolumeClaim", "ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "Deployment", "Service", "ScaledObject", "Deployment", "Service", "ScaledObject", "HTTPProxy"], kinds);
        Assert.Contains("fqdn: linecount.team-a.example.com", yaml, StringComparison.Ordinal);
        Assert.Contains("imagePullPolicy: Never", yaml, StringComparison.Ordinal);
        Assert.Contains("value: values", yaml, StringComparison.Ordinal);
        Assert.Equal(kinds.Count, yaml.Split("\n---\n").Length);
    }

    [Fact]
    public async Task AnInvalidPipelineOrDomainIsRefusedWithTheReason()
    {
        var bad = Path.Combine(Directory.CreateTempSubdirectory("koalja-render-").FullName, "bad.yaml");
        await File.WriteAllTextAsync(bad, "apiVersion: koalja.aljabr.io/v1alpha1\nkind: Pipeline\nmetadata: {name: Bad}\nspec: {tasks: []}\n");
        try
        {
            var (code, output, error) = await CliRunner.RunAsync("render", bad);
            Assert.Equal(1, code);
            Assert.Empty(output);
            Assert.Contains("error KJ", error, StringComparison.Ordinal);

            var (domainCode, _, domainError) = await CliRunner.RunAsync("render", Example("linecount"), "--domain", "Not_A_Domain");
            Assert.Equal(1, domainCode);
            Assert.Contains("--domain 'Not_A_Domain' is not a domain suffix", domainError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(bad)!, recursive: true);
        }
    }
}
