using System.Collections.Frozen;
using System.Globalization;

namespace Koalja.Operator.Tests.Fake;

public sealed partial class FakeKubeApi
{
    /// <summary>A kind of resource as its URL names it: API group ("" for the core group under /api), version and plural.</summary>
    internal readonly record struct ResourceType(string Group, string Version, string Plural)
    {
        public string ApiPrefix => Group.Length == 0 ? "api" : "apis";

        public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

        /// <summary>As kube-apiserver names it in messages: <c>configmaps</c>, <c>deployments.apps</c>.</summary>
        public string GroupResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

        public string Kind => KindOf(Plural);

        /// <summary>Whether kube-apiserver serves it itself (not a custom resource).</summary>
        public bool BuiltIn => BuiltInGroups.Contains(Group);

        public bool IsNamespaces => Group.Length == 0 && Plural == "namespaces";

        public static ResourceType FromApiVersion(string apiVersion, string plural)
        {
            var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
            return slash < 0 ? new ResourceType("", apiVersion, plural) : new ResourceType(apiVersion[..slash], apiVersion[(slash + 1)..], plural);
        }
    }

    /// <summary>Where one object is kept: its type, namespace ("" when cluster-scoped) and name.</summary>
    internal readonly record struct ObjectKey(ResourceType Type, string Namespace, string Name);

    private static readonly FrozenSet<string> BuiltInGroups = new[]
    {
        "", "apps", "batch", "autoscaling", "policy", "coordination.k8s.io", "networking.k8s.io", "rbac.authorization.k8s.io",
        "events.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "storage.k8s.io", "discovery.k8s.io",
        "scheduling.k8s.io", "node.k8s.io", "certificates.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
        "flowcontrol.apiserver.k8s.io", "apiregistration.k8s.io",
    }.ToFrozenSet();

    private static readonly FrozenDictionary<string, string> Kinds = new Dictionary<string, string>
    {
        ["configmaps"] = "ConfigMap",
        ["secrets"] = "Secret",
        ["services"] = "Service",
        ["serviceaccounts"] = "ServiceAccount",
        ["endpoints"] = "Endpoints",
        ["pods"] = "Pod",
        ["nodes"] = "Node",
        ["namespaces"] = "Namespace",
        ["events"] = "Event",
        ["persistentvolumeclaims"] = "PersistentVolumeClaim",
        ["persistentvolumes"] = "PersistentVolume",
        ["deployments"] = "Deployment",
        ["statefulsets"] = "StatefulSet",
        ["daemonsets"] = "DaemonSet",
        ["replicasets"] = "ReplicaSet",
        ["jobs"] = "Job",
        ["cronjobs"] = "CronJob",
        ["horizontalpodautoscalers"] = "HorizontalPodAutoscaler",
        ["poddisruptionbudgets"] = "PodDisruptionBudget",
        ["ingresses"] = "Ingress",
        ["networkpolicies"] = "NetworkPolicy",
        ["leases"] = "Lease",
        ["roles"] = "Role",
        ["rolebindings"] = "RoleBinding",
        ["clusterroles"] = "ClusterRole",
        ["clusterrolebindings"] = "ClusterRoleBinding",
        ["customresourcedefinitions"] = "CustomResourceDefinition",
        ["pipelines"] = "Pipeline",
        ["scaledobjects"] = "ScaledObject",
        ["triggerauthentications"] = "TriggerAuthentication",
        ["httpproxies"] = "HTTPProxy",
    }.ToFrozenDictionary();

    /// <summary>The kind of a plural: from a table of the usual ones, else the plural made singular and capitalised.</summary>
    internal static string KindOf(string plural)
    {
        if (Kinds.TryGetValue(plural, out var kind))
        {
            return kind;
        }

        var singular = plural.EndsWith("ies", StringComparison.Ordinal) ? plural[..^3] + "y"
            : plural.EndsWith("sses", StringComparison.Ordinal) || plural.EndsWith("xes", StringComparison.Ordinal) ? plural[..^2]
            : plural.EndsWith('s') ? plural[..^1]
            : plural;
        return singular.Length == 0 ? plural : char.ToUpper(singular[0], CultureInfo.InvariantCulture) + singular[1..];
    }
}
