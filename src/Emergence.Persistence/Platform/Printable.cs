using System.Globalization;
using System.Text;

namespace Emergence.Persistence.Platform;

/// <summary>
/// Text from files on the volume made safe to print: a manifest's <c>filename</c> with a newline in it
/// would otherwise print a fake line in a listing or a log.
/// </summary>
public static class Printable
{
    /// <summary>Returns <paramref name="text"/> with control characters written as <c>\n</c>, <c>\t</c> or <c>\u001b</c>.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(char.IsControl))
        {
            return text ?? "";
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }
}
