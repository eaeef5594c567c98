<#
.SYNOPSIS
    Turns docs/help/<Cmdlet>.md (platyPS markdown layout) into MAML for Get-Help.
.DESCRIPTION
    platyPS is not obtainable here, so this does its "New-ExternalHelp" step. Text (synopsis,
    description, parameter descriptions, examples, inputs, outputs, notes, links) comes from the
    markdown; syntax and parameter facts (type, mandatory, position, pipeline input, aliases, sets)
    come from the built cmdlets by reflection, so they cannot drift from the code. Fails when an
    exported cmdlet has no page, a page lacks a synopsis, description or example, or a parameter is
    undocumented or documented but absent.
#>
#requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $HelpFolder,
    [Parameter(Mandatory)] [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$NsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$NsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$NsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

# Splits a page into its "## NAME" sections and, inside PARAMETERS and EXAMPLES, their "### name" parts.
function Read-HelpPage([string] $Path) {
    $text = (Get-Content $Path -Raw) -replace "`r`n", "`n"
    $text = $text -replace '(?s)^---\n.*?\n---\n', ''
    $sections = [ordered]@{}
    foreach ($match in [regex]::Matches($text, '(?ms)^## (?<name>[A-Z ]+)\n(?<body>.*?)(?=^## |\z)')) {
        $sections[$match.Groups['name'].Value.Trim()] = $match.Groups['body'].Value.Trim()
    }
    $sections
}

function Split-Subsections([string] $Body) {
    $parts = [ordered]@{}
    foreach ($match in [regex]::Matches($Body, '(?ms)^### (?<name>.+?)\n(?<body>.*?)(?=^### |\z)')) {
        $parts[$match.Groups['name'].Value.Trim()] = $match.Groups['body'].Value.Trim()
    }
    $parts
}

# Paragraphs of prose; fenced blocks are dropped (yaml metadata) unless asked for.
function Get-Paragraphs([string] $Text) {
    $prose = [regex]::Replace($Text, '(?ms)^```.*?^```\s*$', '')
    @($prose -split "\n\s*\n" | ForEach-Object { ($_ -split "\n" | ForEach-Object Trim) -join ' ' } | Where-Object { $_ })
}

function Write-Paragraphs([System.Xml.XmlWriter] $W, [string[]] $Paragraphs) {
    if (-not $Paragraphs) { $Paragraphs = @('') }
    foreach ($p in $Paragraphs) { $W.WriteElementString('maml', 'para', $NsMaml, $p) }
}

function Get-PipelineInput($ParameterMetadata) {
    $kinds = @()
    foreach ($set in $ParameterMetadata.ParameterSets.Values) {
        if ($set.ValueFromPipeline) { $kinds += 'ByValue' }
        if ($set.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    }
    $kinds = @($kinds | Select-Object -Unique)
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

function Write-Parameter([System.Xml.XmlWriter] $W, $Metadata, $SetInfo, [string] $Description, [string] $Default) {
    $required = if ($SetInfo) { $SetInfo.IsMandatory } else { @($Metadata.ParameterSets.Values | Where-Object IsMandatory).Count -gt 0 }
    $position = if ($SetInfo -and $SetInfo.Position -ge 0) { [string]$SetInfo.Position } else { 'named' }
    $typeName = $Metadata.ParameterType.Name
    $W.WriteStartElement('command', 'parameter', $NsCommand)
    $W.WriteAttributeString('required', ([string]$required).ToLowerInvariant())
    $W.WriteAttributeString('variableLength', ([string]$Metadata.ParameterType.IsArray).ToLowerInvariant())
    $W.WriteAttributeString('globbing', 'false')
    $W.WriteAttributeString('pipelineInput', (Get-PipelineInput $Metadata))
    $W.WriteAttributeString('position', $position)
    $W.WriteAttributeString('aliases', $(if ($Metadata.Aliases.Count) { $Metadata.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $NsMaml, $Metadata.Name)
    $W.WriteStartElement('maml', 'description', $NsMaml); Write-Paragraphs $W (Get-Paragraphs $Description); $W.WriteEndElement()
    $validateSet = $Metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
    if ($validateSet) {
        $W.WriteStartElement('command', 'parameterValueGroup', $NsCommand)
        foreach ($v in $validateSet.ValidValues) {
            $W.WriteStartElement('command', 'parameterValue', $NsCommand)
            $W.WriteAttributeString('required', 'false')
            $W.WriteAttributeString('variableLength', 'false')
            $W.WriteString($v); $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    if ($Metadata.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
        $W.WriteStartElement('command', 'parameterValue', $NsCommand)
        $W.WriteAttributeString('required', 'true'); $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($typeName); $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $NsDev); $W.WriteElementString('maml', 'name', $NsMaml, $Metadata.ParameterType.FullName); $W.WriteEndElement()
    $W.WriteElementString('dev', 'defaultValue', $NsDev, $(if ($Default) { $Default } else { 'None' }))
    $W.WriteEndElement()
}

function Get-YamlValue([string] $Body, [string] $Key) {
    $m = [regex]::Match($Body, "(?m)^$([regex]::Escape($Key)):\s*(?<v>.*)$")
    if ($m.Success) { $m.Groups['v'].Value.Trim() } else { $null }
}

Import-Module $ModuleManifest -Force
$moduleName = [IO.Path]::GetFileNameWithoutExtension($ModuleManifest)
$commands = @(Get-Command -Module $moduleName -CommandType Cmdlet | Sort-Object Name)
$problems = [System.Collections.Generic.List[string]]::new()

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
New-Item -ItemType Directory -Force (Split-Path $OutputPath) | Out-Null
$w = [System.Xml.XmlWriter]::Create($OutputPath, $settings)
$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
foreach ($command in $commands) {
    $page = Join-Path $HelpFolder "$($command.Name).md"
    if (-not (Test-Path $page)) { $problems.Add("$($command.Name): no help page $page"); continue }
    $doc = Read-HelpPage $page
    $synopsis = if ($doc.Contains('SYNOPSIS')) { Get-Paragraphs $doc['SYNOPSIS'] } else { @() }
    $description = if ($doc.Contains('DESCRIPTION')) { Get-Paragraphs $doc['DESCRIPTION'] } else { @() }
    $examples = if ($doc.Contains('EXAMPLES')) { Split-Subsections $doc['EXAMPLES'] } else { [ordered]@{} }
    $parameterDocs = if ($doc.Contains('PARAMETERS')) { Split-Subsections $doc['PARAMETERS'] } else { [ordered]@{} }
    if (-not $synopsis) { $problems.Add("$($command.Name): no SYNOPSIS") }
    if (-not $description) { $problems.Add("$($command.Name): no DESCRIPTION") }
    if ($examples.Count -eq 0) { $problems.Add("$($command.Name): no EXAMPLES") }

    $parameters = @($command.Parameters.Values | Where-Object { $CommonParameters -notcontains $_.Name })
    foreach ($p in $parameters) {
        if (-not $parameterDocs.Contains("-$($p.Name)") -or -not (Get-Paragraphs $parameterDocs["-$($p.Name)"])) {
            $problems.Add("$($command.Name): parameter -$($p.Name) is not described")
        }
    }
    foreach ($documented in $parameterDocs.Keys) {
        if ($documented -ne 'CommonParameters' -and -not $command.Parameters.ContainsKey($documented.TrimStart('-'))) {
            $problems.Add("$($command.Name): help describes -$($documented.TrimStart('-')), which the cmdlet does not have")
        }
    }

    $w.WriteStartElement('command', 'command', $NsCommand)
    $w.WriteAttributeString('xmlns', 'maml', $null, $NsMaml)
    $w.WriteAttributeString('xmlns', 'dev', $null, $NsDev)
    $w.WriteAttributeString('xmlns', 'MSHelp', $null, 'http://msdn.microsoft.com/mshelp')
    $w.WriteStartElement('command', 'details', $NsCommand)
    $w.WriteElementString('command', 'name', $NsCommand, $command.Name)
    $w.WriteElementString('command', 'verb', $NsCommand, $command.Verb)
    $w.WriteElementString('command', 'noun', $NsCommand, $command.Noun)
    $w.WriteStartElement('maml', 'description', $NsMaml); Write-Paragraphs $w $synopsis; $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteStartElement('maml', 'description', $NsMaml); Write-Paragraphs $w $description; $w.WriteEndElement()

    $w.WriteStartElement('command', 'syntax', $NsCommand)
    foreach ($set in $command.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $NsCommand)
        $w.WriteElementString('maml', 'name', $NsMaml, $command.Name)
        $ordered = $set.Parameters | Where-Object { $CommonParameters -notcontains $_.Name } |
            Sort-Object @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } } }, @{ Expression = { -not $_.IsMandatory } }
        foreach ($sp in $ordered) {
            $body = if ($parameterDocs.Contains("-$($sp.Name)")) { $parameterDocs["-$($sp.Name)"] } else { '' }
            Write-Parameter $w $command.Parameters[$sp.Name] $sp $body (Get-YamlValue $body 'Default value')
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $NsCommand)
    foreach ($p in $parameters) {
        $body = if ($parameterDocs.Contains("-$($p.Name)")) { $parameterDocs["-$($p.Name)"] } else { '' }
        $setInfo = if ($p.ParameterSets.Count -eq 1) { @($p.ParameterSets.Values)[0] } else { $null }
        Write-Parameter $w $p $setInfo $body (Get-YamlValue $body 'Default value')
    }
    $w.WriteEndElement()

    foreach ($pair in @(@('INPUTS', 'inputTypes', 'inputType'), @('OUTPUTS', 'returnValues', 'returnValue'))) {
        $w.WriteStartElement('command', $pair[1], $NsCommand)
        $types = if ($doc.Contains($pair[0])) { Split-Subsections $doc[$pair[0]] } else { [ordered]@{} }
        foreach ($typeName in $types.Keys) {
            $w.WriteStartElement('command', $pair[2], $NsCommand)
            $w.WriteStartElement('dev', 'type', $NsDev); $w.WriteElementString('maml', 'name', $NsMaml, $typeName); $w.WriteEndElement()
            $w.WriteStartElement('maml', 'description', $NsMaml); Write-Paragraphs $w (Get-Paragraphs $types[$typeName]); $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }

    if ($doc.Contains('NOTES') -and (Get-Paragraphs $doc['NOTES'])) {
        $w.WriteStartElement('maml', 'alertSet', $NsMaml); $w.WriteStartElement('maml', 'alert', $NsMaml)
        Write-Paragraphs $w (Get-Paragraphs $doc['NOTES'])
        $w.WriteEndElement(); $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'examples', $NsCommand)
    foreach ($title in $examples.Keys) {
        $body = $examples[$title]
        $code = [regex]::Match($body, '(?ms)^```[a-zA-Z]*\n(?<code>.*?)^```')
        if (-not $code.Success) { $problems.Add("$($command.Name): example '$title' has no code block") }
        $w.WriteStartElement('command', 'example', $NsCommand)
        $w.WriteElementString('maml', 'title', $NsMaml, "-------------------------- $title --------------------------")
        $w.WriteElementString('dev', 'code', $NsDev, $code.Groups['code'].Value.TrimEnd())
        $w.WriteStartElement('dev', 'remarks', $NsDev); Write-Paragraphs $w (Get-Paragraphs ($body.Substring($code.Index + $code.Length))); $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $NsCommand)
    if ($doc.Contains('RELATED LINKS')) {
        foreach ($link in [regex]::Matches($doc['RELATED LINKS'], '\[(?<text>[^\]]+)\]\((?<uri>[^)]*)\)')) {
            $w.WriteStartElement('maml', 'navigationLink', $NsMaml)
            $w.WriteElementString('maml', 'linkText', $NsMaml, $link.Groups['text'].Value)
            $w.WriteElementString('maml', 'uri', $NsMaml, $(if ($link.Groups['uri'].Value -match '^https?://') { $link.Groups['uri'].Value } else { '' }))
            $w.WriteEndElement()
        }
    }
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()

$orphans = Get-ChildItem $HelpFolder -Filter *.md | Where-Object { $commands.Name -notcontains $_.BaseName }
foreach ($orphan in $orphans) { $problems.Add("$($orphan.Name): no exported cmdlet of that name") }
if ($problems.Count) {
    $problems | ForEach-Object { Write-Host "help: $_" -ForegroundColor Red }
    exit 1
}
Write-Host "help: $($commands.Count) cmdlet(s) -> $OutputPath"
