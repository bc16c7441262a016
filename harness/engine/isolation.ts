/**
 * Lab containers start with NET_ADMIN so that their first step (containers/common/lab-isolate.sh)
 * can delete the default route; it drops the capability before the real work starts. Docker gives
 * every `exec` the container's capabilities again, so commands the harness runs inside a lab
 * container go through this wrapper and run without NET_ADMIN too.
 */
export function withoutNetAdmin(command: string | string[]): string[] {
  const argv = typeof command === 'string' ? ['sh', '-c', command] : command;
  return ['setpriv', '--bounding-set=-net_admin', '--', ...argv];
}
