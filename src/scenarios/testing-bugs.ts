/** The names of a core's test-only bug switches that are on, for a run's report line. */
export function enabledBugs(switches: Readonly<Record<string, boolean>>): string[] {
  return Object.entries(switches).filter(([, on]) => on).map(([name]) => name);
}

/** ", TEST BUGS: a, b" when any switch is on, else "" (appended to a scenario's knobs line). */
export function bugNote(switches: Readonly<Record<string, boolean>>): string {
  const names = enabledBugs(switches);
  return names.length > 0 ? `, TEST BUGS: ${names.join(', ')}` : '';
}
