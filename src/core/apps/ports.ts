/**
 * Storage port of the app catalog: apps and their assignments to groups (required or available). Group
 * membership is transitive, as for profiles and licenses: an app assigned to a group reaches members of
 * groups nested in it.
 */
export type AppKind = 'store' | 'msi';

export interface AppDefinition {
  name: string;
  publisher: string;
  version: string;
  kind: AppKind;
  /** Store: the package family name (PFN) and the Store product id (12 characters, e.g. 9WZDNCRFJ3PZ). */
  packageFamilyName?: string | undefined;
  storeProductId?: string | undefined;
  /** MSI: the product code (a GUID in braces), the HTTPS download URL and the package's SHA-256 (hex). */
  productCode?: string | undefined;
  downloadUrl?: string | undefined;
  sha256?: string | undefined;
  /** Lowest Windows build the app runs on (10240 = Windows 10 1507, 22000 = Windows 11 21H2). */
  minWindowsBuild: number;
}

/** What an assignment asks for: install at check-in, offer in the Company Portal, or remove from devices. */
export type AppIntent = 'required' | 'available' | 'uninstall';
/** The intents the Company Portal lists (an app a group must not have is never offered). */
export type OfferIntent = 'required' | 'available';

export interface CatalogApp extends AppDefinition {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface AppAssignment {
  appId: string;
  groupId: string;
  groupName: string;
  intent: AppIntent;
  assignedAt: Date;
}

export interface AppStore {
  /** Throws ConflictError when an app of that name exists. */
  addApp(input: AppDefinition & { now: Date }): Promise<CatalogApp>;
  /** By id or by name (case-insensitive). */
  getApp(ref: string): Promise<CatalogApp | undefined>;
  /** Sorted by name. */
  listApps(): Promise<CatalogApp[]>;
  /** Also removes its assignments; false when there was no such app. */
  removeApp(appId: string): Promise<boolean>;
  /** Creates or changes the intent of the app's assignment to the group. Throws NotFoundError for an unknown app or group. */
  assignApp(input: { appId: string; groupId: string; intent: AppIntent; now: Date }): Promise<void>;
  /** False when there was no such assignment. */
  unassignApp(appId: string, groupId: string): Promise<boolean>;
  /** One app's assignments, or every assignment; sorted by app, then group name. */
  listAppAssignments(appId?: string): Promise<AppAssignment[]>;
  /**
   * Apps assigned to a group holding the user, directly or through nesting, each once with its strongest
   * intent (required over uninstall over available); an app whose strongest intent is uninstall is left out.
   * Sorted by name.
   */
  appsForUser(userId: string): Promise<Array<{ app: CatalogApp; intent: OfferIntent }>>;
  /** Every assignment reaching the user (directly or through nesting), with its group; sorted by app name, then group name. */
  appAssignmentsForUser(userId: string): Promise<Array<{ app: CatalogApp; intent: AppIntent; groupId: string; groupName: string }>>;
  /**
   * Per app, devices by the app's state there, from each device's newest app command for it (canceled
   * ones aside) and the result recorded for that install: ONE aggregate query, whatever the number of
   * devices. Apps with no install on any device are absent.
   */
  appInstallCounts(): Promise<Map<string, InstallCounts>>;
  /** Creates or replaces the result of one install command (keyed by the command). */
  recordAppResult(result: AppResult): Promise<void>;
  /** The results of these install commands of one device (those with none are absent). */
  appResultsFor(devicePk: string, commandIds: string[]): Promise<AppResult[]>;
}

export interface InstallCounts {
  installed: number;
  failed: number;
  /** Queued, sent, or accepted by the device and still installing. */
  pending: number;
}

/** An install that completes in the background: accepted (installing), then installed or failed. */
export type AppResultState = 'installing' | 'installed' | 'failed';

export interface AppResult {
  /** The install command (Exec) this result belongs to. */
  commandId: string;
  devicePk: string;
  appId: string;
  state: AppResultState;
  /** The device's result code (MSI: msiexec exit code or HRESULT; Store: LastError); null when not reported. */
  code: number | null;
  /** What the device said, in words (e.g. `MSI Status 60`); null when nothing more. */
  detail: string | null;
  updatedAt: Date;
}
