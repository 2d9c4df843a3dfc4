/**
 * A run whose lease expired while no engine is alive: its state is the last
 * one recorded, and nothing will change it until an engine starts.
 */
export function UnsupervisedBadge({ run }: { run: { unsupervised?: boolean } }) {
  if (!run.unsupervised) return null;
  return (
    <span
      className="flag flag-denied"
      data-testid="run-unsupervised"
      title="Its lease expired and no engine is alive: start `agentboard serve` or `agentboard worker` to adopt it or record its end"
    >
      unsupervised
    </span>
  );
}
