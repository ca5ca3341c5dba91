using k8s;
using k8s.Models;
using Koalja.Core.Spec;

namespace Koalja.Operator.Controller;

/// <summary>
/// The operator's install objects that follow from its code: its ServiceAccount, the ClusterRole with exactly the
/// verbs the controller uses on each kind it touches (<see cref="ChildKinds"/>, Pipelines and their status and
/// finalizers, the cluster ConfigMaps), the Role for its Lease, and their bindings. infra/install/rbac.yaml is this,
/// written out (a test keeps them equal), so a kind added to the controller cannot be forgotten in its permissions.
/// </summary>
public static class OperatorInstall
{
    public const string Name = "koalja-operator";
    public const string DefaultNamespace = "koalja-system";

    private static readonly string[] ChildVerbs = ["get", "list", "watch", "create", "update", "patch", "delete"];

    public static IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Rbac(string ns = DefaultNamespace)
    {
        var labels = new Dictionary<string, string> { ["app.kubernetes.io/part-of"] = "koalja", ["app.kubernetes.io/component"] = "operator" };
        var rules = new List<V1PolicyRule>
        {
            Rule(Pipeline.Group, [PipelineCrd.Plural], ["get", "list", "watch", "update", "patch"]),
            Rule(Pipeline.Group, [PipelineCrd.Plural + "/status"], ["get", "update", "patch"]),
            // Owner references with blockOwnerDeletion need update on the owner's finalizers subresource.
            Rule(Pipeline.Group, [PipelineCrd.Plural + "/finalizers"], ["update"]),
        };
        foreach (var group in ChildKinds.All.GroupBy(k => Group(k.ApiVersion)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            rules.Add(Rule(group.Key, [.. group.Select(k => k.Plural).Order(StringComparer.Ordinal)], ChildVerbs));
        }

        // Kubernetes lets a Role be written only by who holds what it grants: the routers' Role reads Endpoints.
        rules.Add(Rule("", ["endpoints"], [.. PipelineManifests.RouterEndpointVerbs]));

        // Reading the Pipeline CRD is not needed; the namespaces' ConfigMaps are read (covered above) and watched cluster-wide.
        return
        [
            new V1ServiceAccount
            {
                ApiVersion = "v1",
                Kind = "ServiceAccount",
                Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = ns, Labels = labels },
            },
            new V1ClusterRole
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "ClusterRole",
                Metadata = new V1ObjectMeta { Name = Name, Labels = labels },
                Rules = rules,
            },
            new V1ClusterRoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "ClusterRoleBinding",
                Metadata = new V1ObjectMeta { Name = Name, Labels = labels },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = Name },
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = Name, NamespaceProperty = ns }],
            },
            new V1Role
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "Role",
                Metadata = new V1ObjectMeta { Name = Name + "-leader-election", NamespaceProperty = ns, Labels = labels },
                Rules = [Rule("coordination.k8s.io", ["leases"], ["get", "create", "update"])],
            },
            new V1RoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "RoleBinding",
                Metadata = new V1ObjectMeta { Name = Name + "-leader-election", NamespaceProperty = ns, Labels = labels },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = Name + "-leader-election" },
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = Name, NamespaceProperty = ns }],
            },
        ];
    }

    private static string Group(string apiVersion) => apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : "";

    private static V1PolicyRule Rule(string group, IList<string> resources, IList<string> verbs) =>
        new() { ApiGroups = [group], Resources = resources, Verbs = verbs };
}
