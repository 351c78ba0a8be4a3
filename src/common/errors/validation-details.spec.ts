import { IsString, ValidateNested, validateSync } from 'class-validator';
import { plainToInstance, Type } from 'class-transformer';
import { validationDetails } from './validation-details';

class Item {
  @IsString()
  name!: string;
}

class Order {
  @IsString()
  to!: string;

  @ValidateNested({ each: true })
  @Type(() => Item)
  items!: Item[];
}

describe('validationDetails', () => {
  it('should give one entry per failed constraint with a path to nested fields', () => {
    const order = plainToInstance(Order, { to: 5, items: [{ name: 'ok' }, { name: 7 }] });
    const details = validationDetails(validateSync(order));
    expect(details).toEqual([
      { field: 'to', message: 'to must be a string' },
      { field: 'items[1].name', message: 'name must be a string' },
    ]);
  });
});
