namespace EcomDr.Engine.Operations.Completion;

/// <summary>One tab-completion candidate: the text inserted, the text listed, and its tooltip.</summary>
public sealed record CompletionItem(string Value, string ListItem, string ToolTip);
