using Koalja.Functions.Host;
using Koalja.Functions.Host.Rpc;

namespace Koalja.Functions.Tests;

/// <summary>Which function a front-door request reaches, from the bindings the worker reported.</summary>
public sealed class FunctionTableTests
{
    private static readonly FunctionTable Table = FunctionTable.From([
        Function("1", "snapshot", """{"name":"req","direction":"In","type":"httpTrigger","methods":["post"],"route":"snapshot"}"""),
        Function("2", "health", """{"name":"request","direction":"In","type":"httpTrigger","methods":["get"],"route":"health"}"""),
        Function("3", "Item", """{"name":"req","direction":"In","type":"httpTrigger","route":"items/{id}"}"""),
        Function("4", "ItemCount", """{"name":"req","direction":"In","type":"httpTrigger","methods":["get"],"route":"items/count"}"""),
        Function("5", "NoRoute", """{"name":"req","direction":"In","type":"httpTrigger","methods":["get","post"]}"""),
        Function("6", "OnQueue", """{"name":"message","direction":"In","type":"queueTrigger","queueName":"q"}"""),
    ]);

    [Theory]
    [InlineData("POST", "snapshot", "snapshot")]
    [InlineData("post", "snapshot", "snapshot")]
    [InlineData("GET", "health", "health")]
    [InlineData("GET", "items/count", "ItemCount")] // a literal route before a parameter
    [InlineData("DELETE", "items/7", "Item")] // no methods: any
    [InlineData("GET", "NoRoute", "NoRoute")] // no route: the function's name
    [InlineData("GET", "noroute/", "NoRoute")]
    public void ARequestReachesTheFunctionWithThatRouteAndMethod(string method, string path, string function)
    {
        var found = Assert.IsType<RouteMatch.Found>(Table.Match(method, path));

        Assert.Equal(function, found.Function.Name);
    }

    [Fact]
    public void RouteValuesAndTheTriggerBindingsNameGoWithTheMatch()
    {
        var found = Assert.IsType<RouteMatch.Found>(Table.Match("GET", "items/42"));
        var health = Assert.IsType<RouteMatch.Found>(Table.Match("GET", "health"));

        Assert.Equal("42", found.RouteValues["id"]);
        Assert.Equal(("3", "req"), (found.Function.FunctionId, found.Function.TriggerBinding));
        Assert.Equal("request", health.Function.TriggerBinding);
    }

    [Theory]
    [InlineData("GET", "snapshots")]
    [InlineData("GET", "OnQueue")] // not an HTTP trigger
    [InlineData("GET", "items/1/more")]
    [InlineData("GET", "")]
    public void APathNoFunctionHasIsNotFound(string method, string path) =>
        Assert.IsType<RouteMatch.NotFound>(Table.Match(method, path));

    [Fact]
    public void AnotherMethodOnAKnownRouteIsNotAllowedAndSaysWhichAre()
    {
        var refused = Assert.IsType<RouteMatch.MethodNotAllowed>(Table.Match("GET", "snapshot"));

        Assert.Equal(["POST"], refused.Allowed);
    }

    [Fact]
    public void ABindingThatIsNotJsonNamesItsFunction()
    {
        var error = Assert.Throws<FormatException>(() => FunctionTable.From([Function("9", "broken", "{not json")]));

        Assert.Contains("'broken'", error.Message, StringComparison.Ordinal);
    }

    private static RpcFunctionMetadata Function(string id, string name, params string[] bindings)
    {
        var function = new RpcFunctionMetadata { FunctionId = id, Name = name };
        function.RawBindings.Add(bindings);
        function.RawBindings.Add("""{"name":"$return","type":"http","direction":"Out"}""");
        return function;
    }
}
