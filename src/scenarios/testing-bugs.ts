/** ", TEST BUGS: a, b" for a core's test-only bug switches that are on, else "" (for a run's knobs line). */
export function bugNote(switches: object): string {
  const names = Object.entries(switches).filter(([, on]) => on === true).map(([name]) => name);
  return names.length > 0 ? `, TEST BUGS: ${names.join(', ')}` : '';
}
