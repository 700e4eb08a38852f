// Validates Backstage catalog entities as Backstage's catalog does when it ingests catalog-info.yaml:
// the default entity policies, then the validator of the entity's kind, then the entity references of
// the relations the catalog would make. Input: a JSON array of entities on stdin. Output: one line per
// entity, "ok <ref>" or "invalid <ref>: <reason>"; the exit status is 1 when any entity is invalid.
import {
  EntityPolicies, DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy, FieldFormatEntityPolicy,
  SchemaValidEntityPolicy, componentEntityV1alpha1Validator, groupEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator, systemEntityV1alpha1Validator, parseEntityRef, stringifyEntityRef,
} from '@backstage/catalog-model';

const policy = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(), new NoForeignRootFieldsEntityPolicy(), new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);
const kindValidators = [componentEntityV1alpha1Validator, groupEntityV1alpha1Validator, resourceEntityV1alpha1Validator, systemEntityV1alpha1Validator];
// The reference fields of the kinds the platform emits, and the kind a reference without one means.
const referenceFields = { owner: 'group', system: 'system', dependsOn: 'resource', parent: 'group', children: 'group', members: 'user' };

async function validate(entity) {
  const checked = await policy.enforce(entity);
  if (!checked) throw new Error('the entity policies rejected it');
  let matched = 0;
  for (const validator of kindValidators) {
    if (await validator.check(checked)) matched++;
  }
  if (matched !== 1) throw new Error(`${matched} kind validators took it, want 1`);
  for (const [field, defaultKind] of Object.entries(referenceFields)) {
    const value = checked.spec?.[field];
    for (const ref of value === undefined ? [] : [value].flat()) {
      parseEntityRef(ref, { defaultKind, defaultNamespace: checked.metadata.namespace });
    }
  }
  return checked;
}

const input = await new Promise((resolve, reject) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
  process.stdin.on('error', reject);
});
let invalid = 0;
for (const entity of JSON.parse(input)) {
  const ref = (() => { try { return stringifyEntityRef(entity); } catch { return JSON.stringify(entity?.metadata?.name); } })();
  try {
    await validate(entity);
    console.log(`ok ${ref}`);
  } catch (err) {
    invalid++;
    console.log(`invalid ${ref}: ${err.message.replaceAll('\n', ' ')}`);
  }
}
process.exit(invalid > 0 ? 1 : 0);
