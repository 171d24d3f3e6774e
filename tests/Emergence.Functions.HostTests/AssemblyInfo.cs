using Emergence.Functions.HostTests.Support;

// One published app and one host for the whole run; containers run one scenario at a time (two cores).
[assembly: AssemblyFixture(typeof(Rehearsal))]
[assembly: CollectionBehavior(DisableTestParallelization = true)]
