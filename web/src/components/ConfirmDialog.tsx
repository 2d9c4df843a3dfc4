import { type ReactNode, useEffect, useId, useRef } from 'react';

interface Props {
  title: string;
  children: ReactNode;
  confirm: string;
  onConfirm: () => void;
  onClose: () => void;
}

/**
 * A modal question before a step that cannot be undone. The native dialog
 * keeps focus inside and closes on Escape; focus goes to Cancel first (the
 * safe answer) and back to what had it when the dialog closes.
 */
export function ConfirmDialog({ title, children, confirm, onConfirm, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    ref.current?.showModal();
    cancel.current?.focus();
    return () => before?.focus();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog confirm"
      onClose={onClose}
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
    >
      <div className="dialog-form">
        <h2 id={`${id}-title`}>{title}</h2>
        <div id={`${id}-body`}>{children}</div>
        <div className="dialog-actions">
          <button type="button" ref={cancel} onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              onConfirm();
              ref.current?.close();
            }}
          >
            {confirm}
          </button>
        </div>
      </div>
    </dialog>
  );
}
