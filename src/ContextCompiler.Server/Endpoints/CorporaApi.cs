using System.Text;
using System.Text.Json;
using ContextCompiler.Engine.Corpora;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ContextCompiler.Server.Endpoints;

/// <summary>
/// Corpora and their documents. A tenant lists, creates and deletes its own corpora, reads the shared ones, and puts,
/// reads, lists and deletes documents of its own. Another tenant's corpus is simply not found.
/// </summary>
public static class CorporaApi
{
    /// <summary>Maps every /v1/corpora route.</summary>
    public static IEndpointRouteBuilder MapCorporaApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/corpora").WithTags("Corpora")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        long documentLimit = app.ServiceProvider.GetRequiredService<IOptions<ServerOptions>>().Value.Corpora.MaxDocumentBytes;

        group.MapGet("/", List).WithName("ListCorpora").WithSummary("The corpora you can read: your own, then the shared ones.");
        group.MapPost("/", Create).WithName("CreateCorpus").WithSummary("Create a corpus of your own.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesJsonBodyProblems();
        group.MapGet("/{corpus}", GetCorpus).WithName("GetCorpus").WithSummary("One corpus you can read, with its document count and bytes.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{corpus}", Delete).WithName("DeleteCorpus").WithSummary("Delete one of your corpora with all its documents.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{corpus}/documents", ListDocuments).WithName("ListDocuments")
            .WithSummary("Documents in path order, with size, spans, tokens, content hash and status; page with cursor.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{corpus}/documents/{**path}", Put).WithName("PutDocument")
            .WithSummary("Store or replace a document: a JSON body {text, mediaType} or the raw text with its Content-Type. Searchable when this answers; vectors follow.")
            .Accepts<DocumentBody>("application/json", "text/*", "application/octet-stream", "application/xhtml+xml", "application/yaml", "application/x-yaml",
                "application/toml", "application/sql", "application/javascript", "application/x-sh")
            .Produces<DocumentWrite>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesJsonBodyProblems()
            // A document may be larger than the service's usual request limit; JSON escaping can double its size.
            .WithMetadata(new BodySizeLimit(documentLimit * 2 + 64 * 1024))
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // Only the JSON form is a DocumentBody; every other media type is the document's own text.
                foreach (var (mediaType, content) in operation.RequestBody?.Content ?? new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>())
                {
                    if (mediaType != "application/json")
                    {
                        content.Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String };
                    }
                }

                DescribePath(operation);
                return Task.CompletedTask;
            });
        group.MapGet("/{corpus}/documents/{**path}", Get).WithName("GetDocument").WithSummary("A document, its status and the text it was stored with.")
            .ProducesProblem(StatusCodes.Status404NotFound).AddOpenApiOperationTransformer(DescribePath);
        group.MapDelete("/{corpus}/documents/{**path}", DeleteDocument).WithName("DeleteDocument").WithSummary("Remove a document from every index.")
            .ProducesProblem(StatusCodes.Status404NotFound).AddOpenApiOperationTransformer(DescribePath);
        return app;
    }

    private static string Tenant(HttpContext context) => context.User.Tenant();

    // OpenAPI has no parameter spanning segments; the route's catch-all takes the rest of the path, slashes included.
    private static Task DescribePath(Microsoft.OpenApi.OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        DescribePath(operation);
        return Task.CompletedTask;
    }

    private static void DescribePath(Microsoft.OpenApi.OpenApiOperation operation)
    {
        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is Microsoft.OpenApi.OpenApiParameter { Name: "path" } path)
            {
                path.Description = "The document's path inside the corpus, '/' between folders (each segment percent-encoded); "
                    + "relative, without empty, '.' or '..' segments, backslashes or control characters.";
            }
        }
    }

    // The same corpus a compile naming it would read: the tenant's own, else a shared one.
    private static Ok<CorpusInfo> GetCorpus(string corpus, ICorpusStore corpora, HttpContext context)
    {
        string key = corpora.ReadableKey(Tenant(context), corpus);
        return TypedResults.Ok(corpora.List(Tenant(context)).First(c => c.Key == key));
    }

    private static Ok<CorpusList> List(ICorpusStore corpora, HttpContext context) => TypedResults.Ok(new CorpusList(corpora.List(Tenant(context))));

    private static Created<CorpusInfo> Create(CreateCorpusBody body, ICorpusStore corpora, HttpContext context)
    {
        var created = corpora.Create(Tenant(context), body.Name ?? throw new ArgumentException("name is required."));
        return TypedResults.Created($"/v1/corpora/{Uri.EscapeDataString(created.Name)}", created);
    }

    private static NoContent Delete(string corpus, ICorpusStore corpora, HttpContext context)
    {
        corpora.Delete(Tenant(context), corpus);
        return TypedResults.NoContent();
    }

    private static Ok<DocumentPage> ListDocuments(string corpus, string? prefix, int? limit, string? cursor, IDocumentStore documents, HttpContext context) =>
        TypedResults.Ok(documents.List(Tenant(context), corpus, prefix, limit, cursor));

    private static async Task<Results<Created<DocumentWrite>, Ok<DocumentWrite>>> Put(
        string corpus, string path, IDocumentStore documents, VectorFiller vectors, HttpContext context)
    {
        var (text, mediaType) = await ReadDocument(context.Request, context.RequestAborted);
        var written = documents.Put(Tenant(context), corpus, path, text, mediaType);
        if (written.Changed)
        {
            vectors.Wake();
        }

        return written.Created
            // Each segment escaped: Kestrel refuses a non-ASCII header (a 500 after the document was stored), and a space is no URI.
            ? TypedResults.Created($"/v1/corpora/{Uri.EscapeDataString(corpus)}/documents/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}", written)
            : TypedResults.Ok(written);
    }

    private static Ok<StoredDocument> Get(string corpus, string path, IDocumentStore documents, HttpContext context) =>
        TypedResults.Ok(documents.Get(Tenant(context), corpus, path));

    private static NoContent DeleteDocument(string corpus, string path, IDocumentStore documents, HttpContext context)
    {
        documents.Delete(Tenant(context), corpus, path);
        return TypedResults.NoContent();
    }

    // A JSON body carries the text and its media type; any other body is the text itself, its Content-Type the media type.
    private static async Task<(string Text, string? MediaType)> ReadDocument(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType))
        {
            throw new BadHttpRequestException("Send the document as JSON {\"text\", \"mediaType\"} or as its raw text with a Content-Type such as text/markdown.",
                StatusCodes.Status415UnsupportedMediaType);
        }

        string charset = contentType.Charset.HasValue ? HeaderUtilities.RemoveQuotes(contentType.Charset).ToString() : "utf-8";
        if (!charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
        {
            throw new BadHttpRequestException($"Documents are read as UTF-8; charset '{charset}' is not accepted.", StatusCodes.Status415UnsupportedMediaType);
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        string body;
        try
        {
            body = new UTF8Encoding(false, true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw new ArgumentException("The document is not valid UTF-8.");
        }

        if (!contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (body, contentType.MediaType.ToString());
        }

        DocumentBody? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<DocumentBody>(body, JsonSerializerOptions.Web);
        }
        catch (InvalidOperationException)
        {
            // A string escape that is not valid Unicode (a lone surrogate) cannot become text.
            throw new ArgumentException("text is not valid Unicode (a lone surrogate escape).");
        }

        return (parsed?.Text ?? throw new ArgumentException("text is required."), parsed.MediaType);
    }

    /// <summary>A route's own request-body limit, read by the pipeline in place of the service-wide one.</summary>
    private sealed class BodySizeLimit(long bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => bytes;
    }
}

/// <summary>POST /v1/corpora.</summary>
/// <param name="Name">1 to 64 letters, digits, '.', '_' or '-'.</param>
public sealed record CreateCorpusBody(string? Name);

/// <summary>PUT of a document as JSON. Without <see cref="MediaType"/>, the path's extension says what the text is.</summary>
/// <param name="MediaType">text/markdown, text/plain, text/html or a source-code type.</param>
public sealed record DocumentBody(string? Text, string? MediaType);

/// <summary>GET /v1/corpora.</summary>
public sealed record CorpusList(IReadOnlyList<CorpusInfo> Items);
