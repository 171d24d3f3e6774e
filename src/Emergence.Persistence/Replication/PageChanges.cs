using Emergence.Persistence.Database;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The effect of a run of commits, read and checked whole before anything is written: the last version of each page,
/// the smallest size the database had within the run and its size after it.
/// </summary>
internal sealed class PageChanges(int pageSize)
{
    public SortedDictionary<uint, byte[]> Pages { get; } = [];

    public uint SmallestSize { get; set; } = uint.MaxValue;

    public uint FinalSize { get; set; }

    public int Commits { get; set; }

    /// <summary>
    /// Adds one transaction: its pages (in log order, the last version of a page winning) and the database's size after
    /// it. A page already held keeps its buffer, overwritten; the buffers no longer held go to <paramref name="spare"/>.
    /// </summary>
    public void Commit(List<(uint Page, byte[] Data)> frames, uint size, Stack<byte[]> spare)
    {
        foreach (var (page, data) in frames)
        {
            if (Pages.TryGetValue(page, out var held))
            {
                data.CopyTo(held, 0);
                spare.Push(data);
            }
            else
            {
                Pages[page] = data;
            }
        }

        if (size < SmallestSize)
        {
            // Pages past a truncation that are not written again after it read as zeros, as a sequential replay leaves them.
            SmallestSize = size;
            foreach (var page in Pages.Keys.Where(p => p > size).ToList())
            {
                spare.Push(Pages[page]);
                Pages.Remove(page);
            }
        }

        FinalSize = size;
        Commits++;
    }

    /// <summary>Adds the run that follows this one: pages past its smallest size go, its pages replace these.</summary>
    public void Then(PageChanges later)
    {
        if (later.Commits == 0)
        {
            return;
        }

        if (later.SmallestSize < SmallestSize)
        {
            foreach (var page in Pages.Keys.Where(p => p > later.SmallestSize).ToList())
            {
                Pages.Remove(page);
            }

            SmallestSize = later.SmallestSize;
        }

        foreach (var (page, data) in later.Pages)
        {
            Pages[page] = data;
        }

        FinalSize = later.FinalSize;
        Commits += later.Commits;
    }

    /// <summary>The pages that survive the run's end (those within its final size), in order.</summary>
    public IEnumerable<(uint Page, byte[] Data)> Surviving() => Pages.Where(p => p.Key <= FinalSize).Select(p => (p.Key, p.Value));

    public void ApplyTo(PageHashes hashes)
    {
        if (Commits == 0)
        {
            return;
        }

        if (SmallestSize < hashes.Pages)
        {
            hashes.Resize(SmallestSize);
        }

        foreach (var (page, data) in Pages)
        {
            hashes.Set(page, data);
        }

        hashes.Resize(FinalSize);
    }

    /// <summary>Writes the run to <paramref name="database"/>; <paramref name="written"/> hears of each page written.</summary>
    public void WriteTo(StagedFile database, Action<uint>? written = null)
    {
        if (Commits == 0)
        {
            return;
        }

        if ((long)SmallestSize * pageSize < database.Length)
        {
            database.SetLength((long)SmallestSize * pageSize);
        }

        foreach (var (page, data) in Pages)
        {
            database.Write((long)(page - 1) * pageSize, data);
            written?.Invoke(page);
        }

        database.SetLength((long)FinalSize * pageSize);
    }
}
