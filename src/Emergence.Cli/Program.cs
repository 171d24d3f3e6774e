using System.Runtime.InteropServices;
using Emergence.Cli;

// SIGINT (Ctrl-C) and SIGTERM (a stopping container) cancel the command instead of killing the process.
using var stopping = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopping.Cancel();
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
return await CliApp.RunAsync(args, Console.Out, Console.Error, CliEnvironment.FromProcess(), stopping.Token).ConfigureAwait(false);
