// OMA-DM SyncML 1.2 message model (protocol.md §6.1 skeleton, §6.6 server commands, §6.7 client
// Status/Results). Decoded shapes and encoder inputs share these types; an encoder input item may omit
// `moreData`, a decoded one always says it.

/** Meta information (MetInf), read by local name whatever its namespace. */
export interface SyncMlMeta {
  /** chr, int, bool, b64, bin, xml, node, null, float, date, time. */
  format?: string;
  /** Usually `text/plain`; also alert types such as `com.microsoft/MDM/LoginStatus`. */
  type?: string;
  mark?: string;
  /** Size of a chunked large object, in bytes (first chunk only). */
  size?: number;
  /** Digest nonce, base64 (Chal of a SyncHdr Status). */
  nextNonce?: string;
}

/** An Item as decoded. */
export interface SyncMlItem {
  /** Target/LocURI. */
  target?: string;
  /** Source/LocURI. */
  source?: string;
  meta?: SyncMlMeta;
  /**
   * Data as text. Escaped content is returned decoded. When Data holds raw (unescaped) XML elements,
   * as devices send for Format xml, this is the exact source slice between `<Data>` and `</Data>`
   * (markup, entity references and whitespace untouched); in both cases the value is the XML text of
   * the payload. Undefined when there is no Data element.
   */
  data?: string;
  /** `<MoreData/>` was present: this is a chunk of a large object. */
  moreData: boolean;
}

/** An Item to encode; `moreData` defaults to false. */
export type SyncMlItemInput = Omit<SyncMlItem, 'moreData'> & { moreData?: boolean };

export interface SyncMlCred {
  /** Cred/Meta/Format, e.g. `b64`. */
  format?: string;
  /** Cred/Meta/Type, e.g. `syncml:auth-md5`. */
  type?: string;
  data: string;
}

export interface SyncMlHeader {
  verDtd: string;
  verProto: string;
  /** Opaque; echo it as received. */
  sessionId: string;
  msgId: number;
  /** Target/LocURI: the management URL (from a client) or the DeviceID (from a server). */
  target: string;
  /** Source/LocURI: the DeviceID (from a client) or the management URL (from a server). */
  source: string;
  cred?: SyncMlCred;
  /** SyncHdr/Meta/MaxMsgSize, in bytes. */
  maxMsgSize?: number;
}

export type SyncMlVersion = '1.1' | '1.2';

/** The fields a Status carries, either direction. */
export interface SyncMlStatusFields<I = SyncMlItem> {
  cmdId: string;
  /** The referenced command's CmdID; `0` for the SyncHdr; empty when the command had none. */
  cmdRef: string;
  /** The referenced verb: `SyncHdr`, `Alert`, `Replace`... */
  cmd: string;
  targetRefs?: string[];
  sourceRefs?: string[];
  /** Authentication challenge (SyncHdr Status 401/407): Type, Format, NextNonce. */
  chal?: SyncMlMeta;
  /** The status code. */
  data: number;
  /**
   * Decoded only, never written: the CSP HRESULT Windows may attach as a `originalerror` attribute on
   * Data (any namespace; protocol.md §6.1, SyncApplicationVersion ≥ 3.0).
   */
  originalError?: string;
  items?: I[];
}

/** A decoded Status; MsgRef is optional in the DTD. */
export interface SyncMlStatus extends SyncMlStatusFields {
  msgRef?: number;
}

/** A Status the server sends. */
export interface ServerStatus extends SyncMlStatusFields<SyncMlItemInput> {
  msgRef: number;
}

export type ItemCommandKind = 'Get' | 'Add' | 'Replace' | 'Delete' | 'Exec';

/** Get, Add, Replace, Delete, Exec: a verb applied to items. */
export interface ItemCommand<I = SyncMlItem> {
  kind: ItemCommandKind;
  cmdId: string;
  /** Command-level Meta (applies to every item). */
  meta?: SyncMlMeta;
  items: I[];
}

export interface AlertCommand<I = SyncMlItem> {
  kind: 'Alert';
  cmdId: string;
  /** The alert code (1200, 1201, 1222...). */
  data: number;
  items: I[];
}

/** Atomic or Sequence: children carry their own CmdIDs. */
export interface ContainerCommand<C> {
  kind: 'Atomic' | 'Sequence';
  cmdId: string;
  meta?: SyncMlMeta;
  commands: C[];
}

export interface StatusCommand<I = SyncMlItem> extends SyncMlStatusFields<I> {
  kind: 'Status';
  msgRef?: number;
}

export interface ResultsCommand<I = SyncMlItem> {
  kind: 'Results';
  cmdId: string;
  msgRef?: number;
  cmdRef: string;
  items: I[];
}

/**
 * A body element we do not handle, or a known command that could not be read. The server still answers
 * it: 406 for an unsupported command, 400 when `problem` is set.
 */
export interface UnknownCommand {
  kind: 'Unknown';
  /** Empty when the element had no CmdID. */
  cmdId: string;
  /** Local name of the element. */
  name: string;
  /** Why a known command was unreadable. */
  problem?: string;
}

/** What a Windows client puts in a SyncBody. */
export type ClientCommand = StatusCommand | ResultsCommand | AlertCommand | ItemCommand | UnknownCommand;

/** Client commands the server answers with a Status (everything except Status and Results). */
export type AnswerableCommand = Exclude<ClientCommand, StatusCommand | ResultsCommand>;

/** A decoded client message (client → server). */
export interface SyncMlMessage {
  version: SyncMlVersion;
  header: SyncMlHeader;
  /** SyncBody children in document order, `Final` excluded. */
  commands: ClientCommand[];
  final: boolean;
}

/** A command the server sends. */
export type ServerCommand = ItemCommand<SyncMlItemInput> | AlertCommand<SyncMlItemInput> | ContainerCommand<ServerCommand>;

/** A server command before CmdIDs are assigned (see `CmdIdAllocator.assign`). */
export type ServerCommandDraft =
  | (Omit<ItemCommand<SyncMlItemInput>, 'cmdId'> & { cmdId?: string })
  | (Omit<AlertCommand<SyncMlItemInput>, 'cmdId'> & { cmdId?: string })
  | ContainerCommandDraft;

export interface ContainerCommandDraft {
  kind: 'Atomic' | 'Sequence';
  cmdId?: string;
  meta?: SyncMlMeta;
  commands: ServerCommandDraft[];
}

/** A server message to encode. */
export interface ServerMessage {
  /** Echo of the client's SessionID. */
  sessionId: string;
  msgId: number;
  /** The DeviceID (the client's Source/LocURI). */
  target: string;
  /** The management URL. */
  source: string;
  /** Written first, in this order. */
  statuses: ServerStatus[];
  /** Written after the statuses, in this order. */
  commands: ServerCommand[];
  /** Writes `<Final/>`: the last message of the server's package. */
  final: boolean;
}

/** A server command as a client decodes it. */
export type ReceivedServerCommand = ItemCommand | AlertCommand | ContainerCommand<ReceivedServerCommand> | UnknownCommand;

/** A decoded server message (server → client). */
export interface ReceivedServerMessage {
  version: SyncMlVersion;
  header: SyncMlHeader;
  statuses: SyncMlStatus[];
  /** Commands in document order (statuses excluded). */
  commands: ReceivedServerCommand[];
  final: boolean;
}

/** A command a client sends (input of `encodeClientMessage`). */
export type ClientCommandInput =
  | StatusCommand<SyncMlItemInput>
  | ResultsCommand<SyncMlItemInput>
  | AlertCommand<SyncMlItemInput>
  | ItemCommand<SyncMlItemInput>;

/** A client message to encode. */
export interface ClientMessage {
  sessionId: string;
  msgId: number;
  /** The management URL. */
  target: string;
  /** The DeviceID. */
  source: string;
  cred?: SyncMlCred;
  maxMsgSize?: number;
  commands: ClientCommandInput[];
  final: boolean;
}
