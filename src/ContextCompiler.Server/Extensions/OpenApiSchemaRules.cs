using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ContextCompiler.Core.Compile;
using ContextCompiler.Engine.Sessions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ContextCompiler.Server;

/// <summary>
/// Makes the OpenAPI schemas say what the serializer writes. The generator marks every constructor parameter
/// <c>required</c> and every nullable type nullable, but with <see cref="JsonIgnoreCondition.WhenWritingNull"/> a null
/// property is left out, so it is optional and never null on the wire. Rules, per property, from its ignore condition:
/// always written → required, and nullable only if it may be null; left out when null or default → optional, not
/// nullable. Numbers are written as numbers, not as the strings that reading also accepts. <see cref="RawJson"/> is
/// described as the <see cref="WorkingSet"/> it holds.
/// </summary>
internal sealed class OpenApiSchemaRules : IOpenApiSchemaTransformer
{
    // How ASP.NET Core marks a property whose type becomes a component: it writes oneOf [null, $ref] for it when this
    // metadata is true. Primitive properties carry nullability in their type instead.
    private const string NullableReferenceKey = "x-is-nullable-property";
    private const string SchemaIdKey = "x-schema-id";

    /// <inheritdoc />
    public async Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type == typeof(RawJson))
        {
            await DescribeAsWorkingSet(schema, context, cancellationToken);
        }
        else if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object)
        {
            // A type first met as a nullable property becomes a component typed [null, object]; the property's own
            // oneOf [null, $ref] then matches null twice, which oneOf refuses. Null belongs to the property, not the type.
            if (schema.Type is { } type)
            {
                schema.Type = type & ~JsonSchemaType.Null;
            }

            ApplyWriteRules(schema, context.JsonTypeInfo);
        }
    }

    // RawJson's converter writes the stored text verbatim, so its C# shape ({ json: string }) never appears on the wire.
    // The generated WorkingSet schema carries its schema id, so the generator turns it into a $ref to that component.
    private static async Task DescribeAsWorkingSet(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        schema.Type = null;
        schema.Properties?.Clear();
        schema.Required?.Clear();
        schema.Description = "A WorkingSet exactly as it was stored.";
        schema.AllOf = [await context.GetOrCreateSchemaAsync(typeof(WorkingSet), null, cancellationToken)];
    }

    private static void ApplyWriteRules(OpenApiSchema schema, JsonTypeInfo type)
    {
        foreach (var property in type.Properties)
        {
            if (property.IsExtensionData)
            {
                // Members beyond the declared ones (a problem's traceId, for example) are part of the shape.
                schema.AdditionalPropertiesAllowed = true;
                schema.AdditionalProperties ??= new OpenApiSchema();
                continue;
            }

            if (schema.Properties is null || !schema.Properties.TryGetValue(property.Name, out var propertySchema))
            {
                continue;
            }

            var attribute = property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: true).OfType<JsonIgnoreAttribute>().FirstOrDefault();
            var condition = attribute?.Condition ?? type.Options.DefaultIgnoreCondition;
            if (condition == JsonIgnoreCondition.Always)
            {
                schema.Properties.Remove(property.Name);
                schema.Required?.Remove(property.Name);
                continue;
            }

            bool mayBeNull = property.PropertyType.IsValueType ? Nullable.GetUnderlyingType(property.PropertyType) is not null : property.IsGetNullable;
            // The serializer implements an attribute's condition as a ShouldSerialize of its own, so only a ShouldSerialize
            // without the attribute is someone else's filter, which may leave the property out at any time. A property
            // without a getter is only read.
            bool filtered = attribute is null && property.ShouldSerialize is not null;
            bool alwaysWritten = property.Get is not null && !filtered && condition switch
            {
                JsonIgnoreCondition.Never => true,
                JsonIgnoreCondition.WhenWritingNull => !mayBeNull,
                _ => false,
            };

            // Input-side requirements ([JsonRequired], [Required]) stay: the same schemas describe request bodies.
            if (alwaysWritten || property.IsRequired)
            {
                (schema.Required ??= new HashSet<string>()).Add(property.Name);
            }
            else
            {
                schema.Required?.Remove(property.Name);
            }

            SetNullable(propertySchema, alwaysWritten && mayBeNull);
            if (!WritesNumbersAsStrings(property, type))
            {
                DropNumericStrings(propertySchema);
            }
        }
    }

    private static void SetNullable(IOpenApiSchema property, bool nullable)
    {
        if (property is not OpenApiSchema schema)
        {
            return;
        }

        if (schema.Type is { } type)
        {
            schema.Type = nullable ? type | JsonSchemaType.Null : type & ~JsonSchemaType.Null;
        }

        if (schema.Metadata?.TryGetValue(SchemaIdKey, out var id) == true && id is string { Length: > 0 })
        {
            if (nullable)
            {
                schema.Metadata[NullableReferenceKey] = true;
            }
            else
            {
                schema.Metadata.Remove(NullableReferenceKey);
            }
        }
    }

    // Web defaults read numbers from strings (hence type [integer, string] with a pattern), but write them as numbers.
    private static bool WritesNumbersAsStrings(JsonPropertyInfo property, JsonTypeInfo type) =>
        ((property.NumberHandling ?? type.NumberHandling ?? type.Options.NumberHandling) & JsonNumberHandling.WriteAsString) != 0;

    private static void DropNumericStrings(IOpenApiSchema property)
    {
        if (property is OpenApiSchema { Type: { } type } schema && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
    }
}
