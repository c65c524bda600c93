// numcodecs 0.3.x points its "./gzip" export at a misspelled declaration file
// ("gzip.d.t.s"); this declares the module so that the portable gzip path typechecks.
declare module "numcodecs/gzip" {
  interface GZipCodec {
    encode(data: Uint8Array): Uint8Array;
    decode(data: Uint8Array): Uint8Array;
  }
  const GZip: { fromConfig(config: { level?: number; id: string }): GZipCodec; codecId: string };
  export default GZip;
}
