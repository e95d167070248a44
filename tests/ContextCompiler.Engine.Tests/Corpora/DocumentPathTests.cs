using ContextCompiler.Core.Ingest;
using ContextCompiler.Engine.Corpora;

namespace ContextCompiler.Engine.Tests.Corpora;

public sealed class DocumentPathTests
{
    [Theory]
    [InlineData("guide.md")]
    [InlineData("a/b/c.md")]
    [InlineData("spaces and ünïcode/ok.txt")]
    [InlineData("a..b/c.d..e")]
    public void Relative_paths_pass(string path) => DocumentPaths.Validate(path);

    [Theory]
    [InlineData("")]
    [InlineData("/etc/passwd")]
    [InlineData("../escape.md")]
    [InlineData("a/../../escape.md")]
    [InlineData("a/./b.md")]
    [InlineData("a//b.md")]
    [InlineData("a/")]
    [InlineData("a\\b.md")]
    [InlineData("C:/windows.md")]
    [InlineData("tab\there.md")]
    [InlineData("nul\0.md")]
    [InlineData("del\u007f.md")]
    public void Unsafe_paths_are_refused(string path) => Assert.Throws<ArgumentException>(() => DocumentPaths.Validate(path));

    [Fact]
    public void A_lone_surrogate_is_refused_and_a_pair_passes()
    {
        Assert.Throws<ArgumentException>(() => DocumentPaths.Validate("lone\ud800.md"));
        Assert.Throws<ArgumentException>(() => DocumentPaths.Validate("\udc00.md"));
        DocumentPaths.Validate("emoji-\ud83d\ude00.md");
    }

    [Fact]
    public void A_path_over_the_limit_is_refused() =>
        Assert.Throws<ArgumentException>(() => DocumentPaths.Validate(new string('a', DocumentPaths.MaxLength + 1)));

    [Theory]
    [InlineData("text/markdown", "x.txt", SourceKind.Markdown)]
    [InlineData("text/plain; charset=utf-8", "notes.txt", SourceKind.Text)]
    [InlineData("text/plain", "main.py", SourceKind.Code)]
    [InlineData("text/html", "x", SourceKind.Html)]
    [InlineData("text/x-python", "x", SourceKind.Code)]
    [InlineData(null, "README.md", SourceKind.Markdown)]
    [InlineData("application/octet-stream", "page.html", SourceKind.Html)]
    public void The_media_type_or_else_the_extension_decides_the_kind(string? mediaType, string path, SourceKind kind) =>
        Assert.Equal(kind, DocumentKinds.Of(mediaType, path));

    [Theory]
    [InlineData("application/pdf", "x.pdf")]
    [InlineData(null, "no-extension")]
    [InlineData("image/png", "x.md")]
    public void Other_media_types_are_refused(string? mediaType, string path) =>
        Assert.Throws<ArgumentException>(() => DocumentKinds.Of(mediaType, path));
}
