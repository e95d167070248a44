using System.Text;
using Microsoft.Net.Http.Headers;

namespace ContextCompiler.Server;

/// <summary>
/// Settles a request body's declared charset before JSON binding sees it. The framework's reader throws an
/// InvalidOperationException (a 500) for a charset it cannot name, including the quoted form <c>charset="utf-8"</c>
/// that HTTP allows. A quoted charset is unquoted; one .NET does not know is a 415 problem.
/// </summary>
internal static class ContentTypeCharset
{
    public static IApplicationBuilder UseContentTypeCharsetCheck(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentType is { } header && MediaTypeHeaderValue.TryParse(header, out var mediaType) && mediaType.Charset.HasValue)
            {
                string charset = HeaderUtilities.RemoveQuotes(mediaType.Charset).ToString();
                if (!IsKnown(charset))
                {
                    throw new BadHttpRequestException(
                        $"The request's charset '{mediaType.Charset}' is not a supported encoding; send UTF-8 (charset=utf-8).",
                        StatusCodes.Status415UnsupportedMediaType);
                }

                if (charset != mediaType.Charset.ToString())
                {
                    mediaType.Charset = charset;
                    context.Request.ContentType = mediaType.ToString();
                }
            }

            await next(context);
        });

    private static bool IsKnown(string charset)
    {
        if (charset.Length == 0)
        {
            return false;
        }

        try
        {
            _ = Encoding.GetEncoding(charset);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
