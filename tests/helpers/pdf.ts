import { PDFParse } from 'pdf-parse';

/** The text of a PDF, read back with a PDF parser (pdf.js underneath), pages joined. */
export async function pdfText(bytes: Buffer | Uint8Array): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    return (await parser.getText()).text;
  } finally {
    await parser.destroy();
  }
}
