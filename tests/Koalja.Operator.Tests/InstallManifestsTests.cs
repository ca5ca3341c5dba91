using k8s;
using k8s.Models;
using Koalja.Operator.Controller;
using Koalja.Testing;

namespace Koalja.Operator.Tests;

/// <summary>infra/install and infra/crd: written from the C# types where they follow from them, and complete.</summary>
public sealed class InstallManifestsTests
{
    private static string Infra(params string[] parts) => Path.Combine([Repository.Root, "infra", .. parts]);

    [Fact]
    public void TheRbacFileIsTheOneTheCodeImplies()
    {
        var expected = PipelineManifests.ToYaml(OperatorInstall.Rbac());
        var file = Infra("install", "rbac.yaml");
        const string header = "# Generated from OperatorInstall.Rbac (operator/Koalja.Operator/Controller/OperatorInstall.cs): the operator's\n"
            + "# ServiceAccount, ClusterRole (exactly the kinds and verbs the controller uses), Lease Role and bindings.\n"
            + "# Regenerate: KOALJA_UPDATE_GOLDEN=1 dotnet test tests/Koalja.Operator.Tests\n";
        if (Environment.GetEnvironmentVariable("KOALJA_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(file, header + expected);
        }

        Assert.Equal(header + expected, File.ReadAllText(file));
    }

    [Fact]
    public void EveryKindTheControllerWritesIsPermitted()
    {
        var role = OperatorInstall.Rbac().OfType<V1ClusterRole>().Single();
        foreach (var kind in ChildKinds.All)
        {
            var group = kind.ApiVersion.Contains('/', StringComparison.Ordinal) ? kind.ApiVersion[..kind.ApiVersion.IndexOf('/', StringComparison.Ordinal)] : "";
            var rule = Assert.Single(role.Rules, r => r.ApiGroups.Contains(group) && r.Resources.Contains(kind.Plural));
            Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { "get", "list", "watch", "patch", "delete" }, rule.Verbs.ToHashSet(StringComparer.Ordinal));
        }

        Assert.Contains(role.Rules, r => r.Resources.Contains("pipelines/status") && r.Verbs.Contains("patch"));
    }

    [Fact]
    public void TheKustomizationsNameFilesThatHoldKubernetesObjects()
    {
        foreach (var dir in new[] { Infra("install"), Infra("crd") })
        {
            var kustomization = ClusterYaml(File.ReadAllText(Path.Combine(dir, "kustomization.yaml")));
            var resources = ((List<object>)kustomization["resources"]).Cast<string>().ToList();
            Assert.NotEmpty(resources);
            foreach (var resource in resources)
            {
                var path = Path.GetFullPath(Path.Combine(dir, resource));
                if (Directory.Exists(path))
                {
                    Assert.True(File.Exists(Path.Combine(path, "kustomization.yaml")), $"{resource}: a directory without a kustomization");
                    continue;
                }

                var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(path));
                Assert.NotEmpty(objects);
            }
        }

        var operatorYaml = KubernetesYaml.LoadAllFromString(File.ReadAllText(Infra("install", "operator.yaml")));
        var deployment = Assert.IsType<V1Deployment>(Assert.Single(operatorYaml));
        Assert.Equal(OperatorInstall.Name, deployment.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(OperatorInstall.DefaultNamespace, deployment.Namespace());
        Assert.Equal(OperatorInstall.DefaultNamespace, Assert.IsType<V1Namespace>(Assert.Single(KubernetesYaml.LoadAllFromString(File.ReadAllText(Infra("install", "namespace.yaml"))))).Name());
    }

    private static Dictionary<string, object> ClusterYaml(string yaml) =>
        new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(yaml);
}
