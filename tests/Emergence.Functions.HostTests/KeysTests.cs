using System.Net;
using System.Text;
using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 4: the host enforces function keys, keeps them on the volume across deploys, and no answer leaks.</summary>
public sealed class KeysTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task Backups_NeedAFunctionKey_ThatSurvivesARedeploy_AndNoAnswerLeaks()
    {
        if (!Rehearsal.Host!.EnforcesKeys)
        {
            Assert.Skip($"{Rehearsal.Host.Description} does not enforce function keys.");
        }

        var volume = NewVolume();
        var first = Deploy(volume);
        await first.DeployedAsync();

        using (var health = await first.Http.GetAsync("api/health", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(first, HttpMethod.Get, "api/backups", key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(first, HttpMethod.Post, "api/backups", key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(first, HttpMethod.Get, "api/backups", key: "not-a-key"));

        // The host wrote its keys to the volume (FUNCTIONS_SECRETS_PATH=/app/data/secrets from the Dockerfile).
        var (functionKey, masterKey) = await KeysAsync(first);

        var (listed, listBody) = await SendAsync(first, HttpMethod.Get, "api/backups", functionKey);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(1, Json(listBody).GetArrayLength());
        var (created, createdBody) = await SendAsync(first, HttpMethod.Post, "api/backups", functionKey);
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("manual", Json(createdBody).GetProperty("reason").GetString());

        Assert.True(await first.StopAsync());
        var second = Deploy(volume);
        await second.DeployedAsync();

        var (listedAgain, listedAgainBody) = await SendAsync(second, HttpMethod.Get, "api/backups", functionKey);
        Assert.Equal(HttpStatusCode.OK, listedAgain);
        Assert.True(Json(listedAgainBody).GetArrayLength() >= 2, listedAgainBody);

        // Malformed requests and a backup that fails (the volume is full) answer without a stack trace or a key.
        var bodies = await AnswersToBadRequestsAsync(second, functionKey);
        foreach (var body in bodies)
        {
            Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
            Assert.DoesNotContain(functionKey, body, StringComparison.Ordinal);
            Assert.DoesNotContain(masterKey, body, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// What <paramref name="app"/> answers to malformed requests, to a backup that fails because the volume is full, and
    /// then to health: the bodies, for the caller to search for a stack trace or a key.
    /// </summary>
    private static async Task<List<string>> AnswersToBadRequestsAsync(Container app, string functionKey)
    {
        var bodies = new List<string>();
        foreach (var (method, path, content) in new[]
        {
            (HttpMethod.Post, "api/backups", "{\"reason\": "),
            (HttpMethod.Post, "api/backups?reason=%00%ff", "\u0000\u00ff"),
            (HttpMethod.Get, "api/backups/..%2f..%2fsecrets%2fhost.json", ""),
            (HttpMethod.Delete, "api/backups", ""),
        })
        {
            bodies.Add((await SendAsync(app, method, path, functionKey, content)).Body);
        }

        app.ExecChecked("sh", "-c", "dd if=/dev/zero of=/app/data/filler bs=1M 2>/dev/null; sync; true");
        var (failed, failedBody) = await SendAsync(app, HttpMethod.Post, "api/backups", functionKey);
        Assert.True((int)failed >= 500, $"{(int)failed}: {failedBody}");
        Assert.Contains("space", failedBody, StringComparison.OrdinalIgnoreCase);
        bodies.Add(failedBody);
        await app.Output.WaitForEventAsync("BackupFailed", TimeSpan.FromSeconds(10));
        bodies.Add((await SendAsync(app, HttpMethod.Get, "api/health", key: null)).Body);

        return bodies;
    }

    private static async Task<HttpStatusCode> StatusAsync(Container app, HttpMethod method, string path, string? key) =>
        (await SendAsync(app, method, path, key)).Status;

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(Container app, HttpMethod method, string path, string? key, string? content = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }

        if (!string.IsNullOrEmpty(content))
        {
            request.Content = new StringContent(content, Encoding.UTF8, "application/json");
        }

        using var response = await app.Http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
