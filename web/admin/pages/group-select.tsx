/** A labelled picker of one group by name, as the assignment and membership forms use it. */
import { Field } from '../../shared/components.tsx';

export function GroupSelect(props: {
  label: string;
  groups: readonly { id: string; name: string }[];
  value: string;
  disabled: boolean;
  onChange: (name: string) => void;
}) {
  return (
    <Field label={props.label}>
      {(f) => (
        <select {...f} value={props.value} disabled={props.disabled} onChange={(e) => props.onChange(e.target.value)}>
          {props.groups.map((g) => (
            <option key={g.id} value={g.name}>
              {g.name}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
