// XML 1.0 + Namespaces in XML: the one error type for input that is not acceptable XML.
// Decoders above this layer translate it into a protocol fault (e.g. SOAP MessageFormat).

export class XmlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XmlError';
  }
}
