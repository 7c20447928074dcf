/**
 * A TypeDoc plugin (typedoc.json `plugin`): the `notExported` validation, for a workspace.
 *
 * TypeDoc's own check (every type that documented API references is documented too)
 * covers only the project's package, the private root package.json (`isosim`): a type
 * from any other package counts as external and passes, and every type here lives in
 * an `@isosim/*` package, so it would check nothing. typedoc.json therefore turns the
 * built-in check off (it would also call every `intentionallyNotExported` entry unused)
 * and this runs the same check for every package that owns an entry point: a type
 * defined there and referenced by the documentation, but exported from no entry point,
 * is a warning (an error under `treatWarningsAsErrors`), unless `intentionallyNotExported`
 * names it (`Name`, or `path/file.ts:Name` as in TypeDoc), and an entry there that
 * matches nothing is a warning too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Application, makeRecursiveVisitor } from 'typedoc';

/** The `name` of the package.json nearest above `file`. */
function packageOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const json = join(dir, 'package.json');
    if (existsSync(json)) return JSON.parse(readFileSync(json, 'utf8')).name;
  }
  return undefined;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    const packages = new Set(app.options.getValue('entryPoints').map(packageOf));
    const allowed = app.options.getValue('intentionallyNotExported').map((entry) => {
      const colon = entry.lastIndexOf(':');
      return colon === -1 ? ['', entry] : [entry.slice(0, colon), entry.slice(colon + 1)];
    });
    const used = new Set();
    const warned = new Set();
    for (const owner of Object.values(project.reflections)) {
      const visitor = makeRecursiveVisitor({
        reference(type) {
          if (type.reflection || type.externalUrl || type.isIntentionallyBroken()) return;
          if (!packages.has(type.package)) return;
          const where = `${type.symbolId.packageName}/${type.symbolId.packagePath}`;
          const allow = allowed.findIndex(
            ([file, name]) => name === type.qualifiedName && where.endsWith(file),
          );
          if (allow !== -1) {
            used.add(allow);
            return;
          }
          const key = type.symbolId.getStableKey();
          if (warned.has(key)) return;
          warned.add(key);
          app.logger.validationWarning(
            `${type.qualifiedName}, defined in ${where}, is referenced by ${owner.getFriendlyFullName()} but not included in the documentation`,
          );
        },
      });
      // What TypeDoc's check looks at: declared, parameter, return and constraint
      // types, type parameter defaults, overwritten members, implemented interfaces.
      for (const type of [owner.type, owner.default, owner.overwrites, ...(owner.implementedTypes ?? [])]) {
        type?.visit(visitor);
      }
    }
    const unused = app.options.getValue('intentionallyNotExported').filter((_, i) => !used.has(i));
    if (unused.length > 0) {
      app.logger.validationWarning(
        `intentionallyNotExported lists what the documentation does not reference: ${unused.join(', ')}`,
      );
    }
  });
}
