/** The part of `@nxtedition/rocksdb` (which ships no types) that the benchmark uses. */
declare module "@nxtedition/rocksdb" {
  interface RocksChainedBatch {
    put(key: Buffer, value: Buffer): this
    del(key: Buffer): this
    write(): Promise<void>
  }
  interface RocksIterator {
    nextv(size: number): Promise<Array<[Buffer, Buffer]>>
    close(): Promise<void>
  }
  interface RocksOptions {
    readonly keyEncoding?: "buffer" | "utf8"
    readonly valueEncoding?: "buffer" | "utf8"
  }
  export class RocksLevel {
    constructor(location: string, options?: RocksOptions)
    open(): Promise<void>
    close(): Promise<void>
    put(key: Buffer, value: Buffer): Promise<void>
    get(key: Buffer): Promise<Buffer>
    getMany(keys: ReadonlyArray<Buffer>): Promise<Array<Buffer | undefined>>
    /** The binding's synchronous multi-get (nxtedition's sync API; runs on the calling thread). */
    _getManySync(keys: ReadonlyArray<Buffer>, options: object): Array<Buffer | undefined>
    del(key: Buffer): Promise<void>
    batch(): RocksChainedBatch
    iterator(options: {
      readonly reverse?: boolean
      readonly keyEncoding?: "buffer"
      readonly valueEncoding?: "buffer"
    }): RocksIterator
    getProperty(property: string): string
  }
}
