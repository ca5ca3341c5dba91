using k8s;
using k8s.Models;
using Koalja.Core.Loading;
using Koalja.Core.Spec;

namespace Koalja.Operator.Tests;

/// <summary>
/// The objects built for each example pipeline, compared with golden YAML files (tests/Koalja.Operator.Tests/golden/).
/// After an intended change: <c>KOALJA_UPDATE_GOLDEN=1 dotnet test tests/Koalja.Operator.Tests</c>, and review the diff.
/// </summary>
public sealed class PipelineManifestsTests
{
    private static readonly OperatorSettings Settings = new()
    {
        RouterImage = "koalja/router:test",
        TaskImage = "koalja/task-runtime:test",
        Storage = StorageConfig.S3("koalja-values", "http://rgw.storage.svc:7480", "koalja-s3"),
    };

    public static TheoryData<string> Examples() => new(Directory.GetFiles(Path.Combine(Testing.Repository.Root, "examples"), "*.yaml")
        .Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!);

    private static Pipeline Example(string name) =>
        PipelineLoader.LoadFile(Path.Combine(Testing.Repository.Root, "examples", name + ".yaml")).Pipelines[0].Pipeline;

    [Theory]
    [MemberData(nameof(Examples))]
    public void TheObjectsOfEachExampleAreItsGoldenFile(string example)
    {
        var pipeline = Example(example);
        var yaml = PipelineManifests.ToYaml(PipelineManifests.Build(pipeline, new ManifestTarget("team-a", $"{pipeline.Name}.team-a.example.com"), Settings));
        var golden = Path.Combine(Testing.Repository.Root, "tests", "Koalja.Operator.Tests", "golden", example + ".yaml");
        if (Environment.GetEnvironmentVariable("KOALJA_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(golden, yaml);
        }

        Assert.True(File.Exists(golden), $"no golden file {golden}: run with KOALJA_UPDATE_GOLDEN=1 and review it");
        Assert.Equal(File.ReadAllText(golden), yaml);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void EveryObjectHasAValidUniqueNameAndThePipelinesLabels(string example)
    {
        var objects = PipelineManifests.Build(Example(example), new ManifestTarget("team-a", "h.example.com"), Settings);
        Assert.All(objects, o => Assert.True(KubeNames.IsDnsLabel(o.Metadata.Name), o.Metadata.Name));
        Assert.All(objects, o => Assert.Equal("team-a", o.Metadata.NamespaceProperty));
        Assert.Equal(objects.Count, objects.Select(o => (o.Kind, o.Metadata.Name)).Distinct().Count());
        Assert.All(objects, o => Assert.Equal(Example(example).Name, o.Metadata.Labels[PipelineManifests.PipelineLabel]));
    }

    [Fact]
    public void EachTaskWithInputsGetsAFunctionAndAnOrderSensitiveOneAtMostOneReplica()
    {
        var slide = Example("linecount-slide");
        var objects = PipelineManifests.Build(slide, new ManifestTarget("default", null), Settings);
        var scaled = objects.OfType<ScaledObject>().ToDictionary(s => s.Spec.Triggers.Single().Metadata["task"]);
        Assert.Equal(["countLines", "removeDuplicates"], scaled.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, scaled["countLines"].Spec.MaxReplicaCount); // SlidingWindow
        Assert.Equal("1", scaled["countLines"].Spec.Triggers.Single().Metadata["maxReplicas"]);
        Assert.Equal(Settings.DefaultMaxReplicas, scaled["removeDuplicates"].Spec.MaxReplicaCount);
        Assert.Equal("external-push", scaled["removeDuplicates"].Spec.Triggers.Single().Type);
        Assert.Equal($"{KubeNames.Router(slide.Name)}.default.svc:9090", scaled["removeDuplicates"].Spec.Triggers.Single().Metadata["scalerAddress"]);

        var services = objects.OfType<V1Service>().Where(s => s.Metadata.Labels[PipelineManifests.ComponentLabel] == "task").ToList();
        Assert.All(services, s => Assert.Equal("None", s.Spec.ClusterIP)); // headless: the router sees each replica
        Assert.DoesNotContain(objects, o => o is HttpProxy or V1Ingress); // no host: no ingress
        Assert.DoesNotContain(objects.OfType<V1Deployment>(), d => d.Metadata.Labels.TryGetValue(PipelineManifests.TaskLabel, out var t) && t == "fileDropInput");
    }

    [Fact]
    public void ATasksMaxReplicasIsItsScaledObjectsMaxReplicaCountUnlessItIsOrderSensitive()
    {
        var text = File.ReadAllText(Path.Combine(Testing.Repository.Root, "examples", "linecount-slide.yaml"))
            .Replace("  - name: removeDuplicates\n", "  - name: removeDuplicates\n    maxReplicas: 3\n", StringComparison.Ordinal)
            .Replace("    snapshotPolicy: SlidingWindow\n", "    snapshotPolicy: SlidingWindow\n    maxReplicas: 3\n", StringComparison.Ordinal);
        var loaded = PipelineLoader.LoadText(text, "linecount-slide.yaml");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        Assert.Equal(2, loaded.Pipelines[0].Pipeline.Spec.Tasks.Count(t => t.MaxReplicas == 3));
        var slide = loaded.Pipelines[0].Pipeline;
        var scaled = PipelineManifests.Build(slide, new ManifestTarget("default", null), Settings).OfType<ScaledObject>()
            .ToDictionary(s => s.Spec.Triggers.Single().Metadata["task"]);
        Assert.Equal(3, scaled["removeDuplicates"].Spec.MaxReplicaCount);
        Assert.Equal("3", scaled["removeDuplicates"].Spec.Triggers.Single().Metadata["maxReplicas"]); // the scaler caps its metric alike
        Assert.Equal(1, scaled["countLines"].Spec.MaxReplicaCount); // SlidingWindow: one, whatever maxReplicas says

        var above = slide with { Spec = slide.Spec with { Tasks = slide.Spec.Tasks.Select(t => t with { MaxReplicas = 40 }).ToList() } };
        Assert.Equal(40, PipelineManifests.Build(above, new ManifestTarget("default", null), Settings).OfType<ScaledObject>()
            .Single(s => s.Spec.Triggers.Single().Metadata["task"] == "removeDuplicates").Spec.MaxReplicaCount); // not the default's 10
    }

    [Fact]
    public void AChangedTaskChangesOnlyItsOwnObjects()
    {
        var pipeline = Example("linecount");
        var changed = pipeline with
        {
            Spec = pipeline.Spec with
            {
                Tasks = pipeline.Spec.Tasks.Select(t => t.Name == "countLines" ? t with { Executor = t.Executor! with { Env = [new EnvVarSpec { Name = "X", Value = "1" }] } } : t).ToList(),
            },
        };
        var before = PipelineManifests.Build(pipeline, new ManifestTarget("default", "h"), Settings).ToDictionary(Key, KubernetesYaml.Serialize);
        var after = PipelineManifests.Build(changed, new ManifestTarget("default", "h"), Settings).ToDictionary(Key, KubernetesYaml.Serialize);
        var different = before.Keys.Where(k => before[k] != after[k]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([$"ConfigMap/{KubeNames.Join("linecount", "pipeline")}", $"Deployment/{KubeNames.Task("linecount", "countLines")}"], different);

        static string Key(IKubernetesObject<V1ObjectMeta> o) => $"{o.Kind}/{o.Metadata.Name}";
    }

    [Fact]
    public void APlainIngressAndAnOwnerAreWrittenWhenAsked()
    {
        var owner = new V1OwnerReference { ApiVersion = Pipeline.ApiVersionValue, Kind = Pipeline.KindValue, Name = "linecount", Uid = "0000-1111", Controller = true, BlockOwnerDeletion = true };
        var objects = PipelineManifests.Build(Example("linecount"), new ManifestTarget("default", "linecount.default.example.com", owner),
            Settings with { Ingress = IngressKind.Ingress, IngressClassName = "nginx" });
        var ingress = Assert.Single(objects.OfType<V1Ingress>());
        Assert.Equal("linecount.default.example.com", ingress.Spec.Rules.Single().Host);
        Assert.Equal("nginx", ingress.Spec.IngressClassName);
        Assert.All(objects, o => Assert.Equal("0000-1111", Assert.Single(o.Metadata.OwnerReferences).Uid));
    }
}

public sealed class PipelineDocumentTests
{
    [Theory]
    [MemberData(nameof(PipelineManifestsTests.Examples), MemberType = typeof(PipelineManifestsTests))]
    public void TheRoutersDocumentLoadsAsTheSamePipelineInTheTargetNamespace(string example)
    {
        var pipeline = PipelineLoader.LoadFile(Path.Combine(Testing.Repository.Root, "examples", example + ".yaml")).Pipelines[0].Pipeline;
        var config = PipelineManifests.Build(pipeline, new ManifestTarget("team-a", null), new OperatorSettings()).OfType<V1ConfigMap>().First();
        var loaded = PipelineLoader.LoadText(config.Data[PipelineManifests.PipelineFile], "pipeline.json");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        Assert.DoesNotContain(loaded.Diagnostics, d => d.Severity != Core.Diagnostics.Severity.Note);
        var again = loaded.Pipelines.Single().Pipeline;
        Assert.Equal("team-a", again.Metadata.Namespace);
        Assert.Equal(PipelineSpecJson.Serialize(pipeline.Spec), PipelineSpecJson.Serialize(again.Spec));
    }
}
