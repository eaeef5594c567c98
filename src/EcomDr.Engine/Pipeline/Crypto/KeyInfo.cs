namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>What New-DrKey created: ids and paths, never key material.</summary>
public sealed record KeyInfo(string Kind, string KeyId, string? SigningKeyId, string Path, string PublicKeyPath, DateTimeOffset Created);
