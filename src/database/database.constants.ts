/**
 * Name of the API read pool's TypeORM data source: inject it with
 * `@InjectDataSource(READ_DATA_SOURCE)`. Everything else uses the default data source.
 */
export const READ_DATA_SOURCE = 'reads';
