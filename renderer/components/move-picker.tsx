/**
 * The "Move this conversation to…" picker: the user's other devices by name with their online state;
 * those that cannot take the chat are listed disabled with the reason, and when none can, the picker
 * says why. Arrow keys choose, Enter moves, Esc closes. Opened from the header or with Ctrl/Cmd+Shift+M.
 */
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { moveCandidates, noCandidateReason } from '../state/devices-slice';
import { useAppState } from '../state/store-context';

/** The picker for `conversationId` (rendered only while open). */
export function MovePicker(props: { conversationId: string; peerName: string; sessionActive: boolean }): ReactNode {
  const devices = useAppState((s) => s.devices);
  const seen = useAppState((s) => s.seenDevices);
  const close = useAppState((s) => s.closePicker);
  const move = useAppState((s) => s.move);
  const candidates = useMemo(() => moveCandidates(devices, seen), [devices, seen]);
  const reason = noCandidateReason(candidates, props.sessionActive);
  const choosable = reason === null ? candidates.filter((c) => c.available) : [];
  const [active, setActive] = useState(0);
  const listRef = useRef<HTMLUListElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const idBase = useId();

  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    (choosable.length > 0 ? listRef.current : closeRef.current)?.focus();
    return () => previous?.focus();
    // Focus once, when the picker opens; the choices may change while it is open.
  }, []);

  const activeCandidate = choosable[Math.min(active, choosable.length - 1)];
  const choose = (instanceId: string | undefined) => {
    const target = choosable.find((c) => c.device.instanceId === instanceId);
    if (target) void move(props.conversationId, target.device);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (choosable.length === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((i) => (Math.min(i, choosable.length - 1) + step + choosable.length) % choosable.length);
    } else if (event.key === 'Enter' && event.target === listRef.current) {
      event.preventDefault();
      choose(activeCandidate?.device.instanceId);
    }
  };

  return (
    <div className="picker-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div className="picker" role="dialog" aria-modal="true" aria-labelledby={titleId} onKeyDown={onKeyDown}>
        <h2 id={titleId}>Move this conversation to…</h2>
        <p className="picker-hint">Your chat with {props.peerName} continues on the device you choose, with its whole history.</p>
        {reason !== null ? <p className="picker-reason" role="note">{reason}</p> : null}
        {candidates.length > 0 ? (
          <ul
            ref={listRef}
            role="listbox"
            aria-label="Your other devices"
            tabIndex={choosable.length > 0 ? 0 : -1}
            aria-activedescendant={activeCandidate ? `${idBase}-${activeCandidate.device.instanceId}` : undefined}
            className="picker-list"
          >
            {candidates.map((c) => {
              const enabled = reason === null && c.available;
              const isActive = enabled && c === activeCandidate;
              return (
                <li
                  key={c.device.instanceId}
                  id={`${idBase}-${c.device.instanceId}`}
                  role="option"
                  aria-selected={isActive}
                  aria-disabled={!enabled}
                  className={`picker-option${isActive ? ' active' : ''}${enabled ? '' : ' disabled'}`}
                  onMouseEnter={() => enabled && setActive(choosable.indexOf(c))}
                  onClick={() => enabled && choose(c.device.instanceId)}
                >
                  <span className={`presence ${c.online ? 'online' : 'offline'}`} aria-hidden="true" />
                  <span className="picker-name">{c.device.name}</span>
                  <span className="picker-state">{c.online ? (c.available ? 'Online' : `Online, ${c.reason}`) : 'Offline'}</span>
                </li>
              );
            })}
          </ul>
        ) : null}
        <div className="picker-actions">
          <button type="button" ref={closeRef} onClick={close}>Cancel</button>
          <button type="button" className="primary" disabled={activeCandidate === undefined} onClick={() => choose(activeCandidate?.device.instanceId)}>
            {activeCandidate ? `Move to ${activeCandidate.device.name}` : 'Move'}
          </button>
        </div>
      </div>
    </div>
  );
}
