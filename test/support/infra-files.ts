// What the tests of infra/'s scheduler files share: a pipeline file's environment variables.

/** Every environment variable a pipeline file names (the values of its …Env fields), sorted. */
export function envNamesOf(tree: unknown): string[] {
  const names = new Set<string>();
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (/Env$/.test(k) && typeof v === 'string') names.add(v);
        else walk(v);
      }
    }
  };
  walk(tree);
  return [...names].sort();
}
