namespace Koalja.Core.Events;

/// <summary>What is wrong with an event, and which attribute (or member, such as <c>data</c>) it concerns.</summary>
public sealed record CloudEventViolation(string Attribute, string Message);
