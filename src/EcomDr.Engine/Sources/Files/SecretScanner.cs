using System.Text;
using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.Files;

/// <summary>A file that holds a secret: which file, and which rule matched (never the secret itself).</summary>
public sealed record SecretFinding(string Name, string Rule, int? Line)
{
    public override string ToString() => Line is { } n ? $"{Name} (line {n}): {Rule}" : $"{Name}: {Rule}";
}

/// <summary>
/// Finds files that hold secrets, which the plan keeps in the vault only: .env files, private keys
/// (PEM and OpenSSH blocks, PKCS#12 files), and common token shapes (AWS access keys, Vault tokens,
/// GitHub and Slack tokens, password= lines of an .env file). Content is read line by line, in UTF-8
/// with a bounded line length, so a large or binary file costs a pass, not memory.
/// </summary>
public static class SecretScanner
{
    private const int MaxLine = 64 << 10;

    private static readonly (string Rule, Regex Pattern)[] ContentRules =
    [
        ("private key (PEM)", new Regex(@"-----BEGIN (?:RSA |EC |DSA |ENCRYPTED |)PRIVATE KEY-----", RegexOptions.CultureInvariant)),
        ("private key (OpenSSH)", new Regex(@"-----BEGIN OPENSSH PRIVATE KEY-----", RegexOptions.CultureInvariant)),
        ("AWS access key", new Regex(@"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])", RegexOptions.CultureInvariant)),
        ("Vault token", new Regex(@"(?<![A-Za-z0-9])hv[sbr]\.[A-Za-z0-9_-]{20,}", RegexOptions.CultureInvariant)),
        ("GitHub token", new Regex(@"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})", RegexOptions.CultureInvariant)),
        ("Slack token", new Regex(@"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}", RegexOptions.CultureInvariant)),
        ("password= line", new Regex(@"^\s*(?:export\s+)?[A-Za-z0-9_.]*(?:PASSWORD|PASSWD|SECRET|TOKEN)[A-Za-z0-9_.]*\s*=\s*['""]?[^\s'""$<*{][^\s'""]{3,}", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)),
    ];

    // YAML files only (provisioning, compose, CI): a key that ends in password, secret, token or a key
    // name, with a literal value. ${VAR}, $VAR, empty, null, a tag (!vault) or a block scalar are not values
    // here; secretName or tokenUrl are not such keys.
    private static readonly (string Rule, Regex Pattern)[] YamlRules =
    [
        ("password: line (YAML)", new Regex(@"^\s*(?:-\s+)?[""']?[A-Za-z0-9_.-]*?(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[""']?\s*:\s+(?!(?:null|none|true|false|~)\s*(?:#.*)?$)[""']?[^\s'""$<*{!&|>#\[][^\s'""]{3,}",
            RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)),
    ];

    /// <summary>Scans each regular file of <paramref name="entries"/> not exempted by <paramref name="allowed"/>.</summary>
    public static async Task<IReadOnlyList<SecretFinding>> ScanAsync(IEnumerable<FileEntry> entries, IReadOnlyList<PathGlob> allowed, CancellationToken ct)
    {
        var findings = new List<SecretFinding>();
        foreach (var entry in entries.Where(e => e.Type == FileEntryType.File && !PathGlob.Any(allowed, e.Relative) && !PathGlob.Any(allowed, e.Name)))
        {
            if (NameRule(Path.GetFileName(entry.Name)) is { } byName)
            {
                findings.Add(new SecretFinding(entry.Name, byName, null));
                continue;
            }

            var yaml = Path.GetExtension(entry.Name) is { } extension && (extension.Equals(".yml", StringComparison.OrdinalIgnoreCase) || extension.Equals(".yaml", StringComparison.OrdinalIgnoreCase));
            if (await ContentRuleAsync(entry.FullPath, yaml, ct).ConfigureAwait(false) is { } byContent)
            {
                findings.Add(new SecretFinding(entry.Name, byContent.Rule, byContent.Line));
            }
        }

        return findings;
    }

    /// <summary>The rule a file's name alone breaks: .env files and PKCS#12 key stores.</summary>
    public static string? NameRule(string fileName) =>
        fileName.Equals(".env", StringComparison.OrdinalIgnoreCase) || fileName.StartsWith(".env.", StringComparison.OrdinalIgnoreCase) && !IsTemplate(fileName)
        || fileName.EndsWith(".env", StringComparison.OrdinalIgnoreCase) ? ".env file"
        : fileName.EndsWith(".p12", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) ? "PKCS#12 key store"
        : null;

    // .env.example, .env.sample, .env.template hold the names, not the values.
    private static bool IsTemplate(string fileName) =>
        fileName.EndsWith(".example", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".sample", StringComparison.OrdinalIgnoreCase)
        || fileName.EndsWith(".template", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".dist", StringComparison.OrdinalIgnoreCase);

    private static async Task<(string Rule, int Line)?> ContentRuleAsync(string path, bool yaml, CancellationToken ct)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: true);
        using var reader = new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true);
        var buffer = new char[MaxLine];
        var line = new StringBuilder();
        var number = 1;
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), ct).ConfigureAwait(false)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n' || line.Length >= MaxLine)
                {
                    if (Match(line.ToString(), yaml) is { } rule)
                    {
                        return (rule, number);
                    }

                    line.Clear();
                    if (buffer[i] == '\n')
                    {
                        number++;
                        continue;
                    }
                }

                line.Append(buffer[i]);
            }
        }

        return Match(line.ToString(), yaml) is { } last ? (last, number) : null;
    }

    private static string? Match(string line, bool yaml) =>
        ContentRules.FirstOrDefault(r => r.Pattern.IsMatch(line)).Rule ?? (yaml ? YamlRules.FirstOrDefault(r => r.Pattern.IsMatch(line)).Rule : null);
}
