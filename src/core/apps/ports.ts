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

export type AppIntent = 'required' | 'available';

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
   * intent (required over available). Sorted by name.
   */
  appsForUser(userId: string): Promise<Array<{ app: CatalogApp; intent: AppIntent }>>;
}
