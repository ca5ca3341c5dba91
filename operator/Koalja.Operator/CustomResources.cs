using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Koalja.Operator;

/// <summary>KEDA's <c>keda.sh/v1alpha1</c> ScaledObject: the fields Koalja writes (KEDA's names).</summary>
public sealed class ScaledObject : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "keda.sh";
    public const string Version = "v1alpha1";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{Group}/{Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ScaledObject";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public ScaledObjectSpec Spec { get; set; } = new();
}

public sealed class ScaledObjectSpec
{
    [JsonPropertyName("scaleTargetRef")]
    public ScaleTargetRef ScaleTargetRef { get; set; } = new();

    [JsonPropertyName("pollingInterval")]
    public int PollingInterval { get; set; }

    [JsonPropertyName("cooldownPeriod")]
    public int CooldownPeriod { get; set; }

    [JsonPropertyName("minReplicaCount")]
    public int MinReplicaCount { get; set; }

    [JsonPropertyName("maxReplicaCount")]
    public int MaxReplicaCount { get; set; }

    [JsonPropertyName("triggers")]
    public IList<ScaleTrigger> Triggers { get; set; } = [];
}

public sealed class ScaleTargetRef
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";
}

public sealed class ScaleTrigger
{
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    [JsonPropertyName("metricType")]
    public string? MetricType { get; set; }

    [JsonPropertyName("metadata")]
    public IDictionary<string, string> Metadata { get; set; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>Contour's <c>projectcontour.io/v1</c> HTTPProxy: a virtual host routed to the router's API.</summary>
public sealed class HttpProxy : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "projectcontour.io";
    public const string Version = "v1";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{Group}/{Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "HTTPProxy";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public HttpProxySpec Spec { get; set; } = new();
}

public sealed class HttpProxySpec
{
    [JsonPropertyName("virtualhost")]
    public HttpProxyVirtualHost VirtualHost { get; set; } = new();

    [JsonPropertyName("routes")]
    public IList<HttpProxyRoute> Routes { get; set; } = [];
}

public sealed class HttpProxyVirtualHost
{
    [JsonPropertyName("fqdn")]
    public string Fqdn { get; set; } = "";
}

public sealed class HttpProxyRoute
{
    [JsonPropertyName("conditions")]
    public IList<HttpProxyCondition> Conditions { get; set; } = [];

    [JsonPropertyName("enableWebsockets")]
    public bool EnableWebsockets { get; set; }

    [JsonPropertyName("timeoutPolicy")]
    public HttpProxyTimeouts? TimeoutPolicy { get; set; }

    [JsonPropertyName("services")]
    public IList<HttpProxyService> Services { get; set; } = [];
}

public sealed class HttpProxyCondition
{
    [JsonPropertyName("prefix")]
    public string Prefix { get; set; } = "/";
}

public sealed class HttpProxyTimeouts
{
    /// <summary>The live event stream and long drops stay open: no response timeout.</summary>
    [JsonPropertyName("response")]
    public string Response { get; set; } = "infinity";
}

public sealed class HttpProxyService
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("port")]
    public int Port { get; set; }
}
